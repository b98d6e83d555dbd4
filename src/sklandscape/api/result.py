"""The result of every public function: tables, their metadata, metrics, figures, files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sklandscape import io
from sklandscape.figures.drawing import save_figure
from sklandscape.kinds import names

# Kinds whose main table is a grid of float64 columns, streamed by the pipeline with
# fixed row groups (io.write_columns); every other table is written whole (io.write_table).
GRID_KINDS = names("landscape", grid=True)


@dataclass
class Result:
    """A landscape or an analysis, as the pipeline would write and draw it.

    Attributes
    ----------
    kind : str
        The landscape kind or analysis (``"weights"``, ``"random_plane"``, ``"curvature"``, …).
    name : str
        Its name in titles (the config entry's name in the pipeline).
    tables : dict of str to pandas.DataFrame
        Every table it made, the main one first (the pipeline writes each to Parquet).
    table_metadata : dict of str to dict
        Each table's key-value metadata (what the pipeline writes into the Parquet file).
    metrics : dict of str to float
        The summary numbers the pipeline logs to MLflow.
    tags : dict of str to str
        Verdicts in words (curvature, optimizers), logged as MLflow tags by the pipeline.
    figures : dict of str to callable
        Each figure's name and what draws it (call ``plot(name)``).
    captions : dict of str to str
        A table's title in words, where it has one, and under ``"<table>.columns"`` its
        columns in words (the pipeline's sortable HTML tables).
    topology : list of sklandscape.api.topology.Grid or None
        A 2-D landscape's grids, each with its critical points, persistence and per-cell
        basins (``grid.topology.basins``); the table ``"topology"`` lists their points.
    """

    kind: str
    name: str
    tables: dict[str, pd.DataFrame]
    table_metadata: dict[str, dict]
    metrics: dict[str, float]
    tags: dict[str, str] = field(default_factory=dict)
    figures: dict[str, Callable] = field(default_factory=dict, repr=False)
    captions: dict[str, str] = field(default_factory=dict)
    animation: Callable | None = field(default=None, repr=False)  # writes a GIF to a path
    # a 2-D landscape's grids with their topology (sklandscape.api.topology.Grid), if made
    topology: list | None = field(default=None, repr=False)

    @property
    def frame(self) -> pd.DataFrame:
        """The main table: one row per grid point (the same columns as the pipeline's file)."""
        return next(iter(self.tables.values()))

    @property
    def metadata(self) -> dict:
        """The main table's metadata: the options, the network, the centre, the samples."""
        return next(iter(self.table_metadata.values()))

    def plot(self, which: str | None = None):
        """The figure the pipeline draws, as a matplotlib Figure.

        Parameters
        ----------
        which : str, optional
            For results with several figures (see ``figure_names``), which one; the first
            by default.
        """
        if not self.figures:
            raise ValueError(f"{self.kind} results have no figure")
        which = which or next(iter(self.figures))
        if which not in self.figures:
            raise ValueError(f"no figure {which!r}; this result has {list(self.figures)}")
        return self.figures[which]()

    @property
    def figure_names(self) -> list[str]:
        return list(self.figures)

    def save_figure(self, path, which: str | None = None) -> Path:
        """Draw a figure (as ``plot(which)``) and write it as the pipeline does: a
        byte-reproducible PNG whose text chunks say what it maps (kind, name, network,
        config; sklandscape.figures.drawing.save_figure)."""
        save_figure(self.plot(which), path, figure_provenance(self.kind, self.name,
                                                              self.metadata))
        return Path(path)

    def save_animation(self, path) -> Path:
        """Write the result's animation (optimizers: the paths step by step) as a GIF."""
        if self.animation is None:
            raise ValueError(f"{self.kind} results have no animation")
        with io.atomic_path(path, keep_suffix=True) as tmp:
            self.animation(tmp)
        return Path(path)

    def to_parquet(self, path, table: str | None = None) -> Path:
        """Write one table (the main one by default) exactly as the pipeline writes it.

        Returns the path written. The file is replaced atomically: a failed write leaves
        no partial file.
        """
        table = table or next(iter(self.tables))
        if table not in self.tables:
            raise ValueError(f"no table {table!r}; this result has {list(self.tables)}")
        frame, metadata = self.tables[table], self.table_metadata[table]
        if table == next(iter(self.tables)) and self.kind in GRID_KINDS:
            io.write_columns([{c: frame[c].to_numpy() for c in frame.columns}], path,
                             list(frame.columns), metadata)
        else:
            io.write_table(frame, path, metadata)
        return Path(path)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {len(v)} rows" for k, v in self.tables.items())
        return f"<sklandscape {self.kind} result {self.name!r} ({shapes})>"


PROVENANCE_KEYS = ("landscape", "analysis", "network", "config_hash", "samples", "centre")


def figure_provenance(kind: str, name: str, metadata: dict) -> dict:
    """The small facts a figure's PNG carries: what was mapped, of which network, from
    which weights file and config (the table metadata's small keys)."""
    found = {"sklandscape:kind": kind, "sklandscape:name": name}
    for key in PROVENANCE_KEYS:
        if key in metadata:
            value = metadata[key]
            if key == "network":
                value = {k: v for k, v in value.items() if k != "classes"}
            if key == "samples" and isinstance(value, list) and len(value) > 50:
                value = f"{len(value)} rows"
            found[f"sklandscape:{key}"] = value
    return found
