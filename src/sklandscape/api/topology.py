"""The topology of every 2-D landscape (sklandscape.analyses.topology) as a landscape's table,
metrics and figure overlay: one grid per landscape, or one per pair (weight_pairs) or per seed
(random_plane)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sklandscape.analyses.topology import DEFAULT_THRESHOLD, Topology, topology
from sklandscape.figures.drawing import grid_of
from sklandscape.kinds import names

# the kinds whose table is a 2-D grid of losses (interpolation is a line)
TOPOLOGY_KINDS = names(two_d=True)
# GUDHI's cubical complex of a 1001² grid peaks at about 370 MB: beyond it, a landscape job
# would break its memory bound (docs/failures.md), so larger grids go without topology.
MAX_CELLS = 1001 * 1001
COUNTS = ("minima", "saddles", "maxima", "significant_minima", "significant_saddles",
          "significant_maxima")


@dataclass
class Grid:
    """One 2-D grid of a landscape: what tells it apart (a pair, a seed), its axes, its
    topology."""

    keys: dict
    columns: tuple[str, str]
    x: np.ndarray
    y: np.ndarray
    topology: Topology


def grid_layout(frame: pd.DataFrame, metadata: dict) -> tuple[tuple[str, str], tuple[str, ...]]:
    """(the two axis columns, the columns that tell the grids apart) of a landscape table."""
    spec = metadata["landscape"]
    kind = spec["kind"]
    if kind == "weights":
        return tuple(spec["axes"]), ()
    if kind == "input_space":
        plane = metadata.get("plane") or {}
        default = ("x0", "x1") if frame is None else tuple(frame.columns[:2])
        return tuple(plane.get("columns", default)), ()
    if kind == "weight_pairs":
        return ("x", "y"), ("x_name", "y_name")
    if kind == "random_plane":
        return ("a", "b"), ("seed",)
    if kind in ("hessian_plane", "trajectory_pca"):
        return ("a", "b"), ()
    raise ValueError(f"a {kind} landscape is not a 2-D grid; topology needs one")


def landscape_grids(frame: pd.DataFrame, metadata: dict,
                    threshold: float = DEFAULT_THRESHOLD) -> list[Grid]:
    """The topology of each of the landscape's grids, in the table's order."""
    columns, keys = grid_layout(frame, metadata)
    groups = [((), frame)] if not keys else frame.groupby(list(keys), sort=False)
    grids = []
    for values, part in groups:
        x, y, z = grid_of(part, columns[0], columns[1], "loss")
        values = values if isinstance(values, tuple) else (values,)
        grids.append(Grid(dict(zip(keys, values)), columns, x, y, topology(z, threshold=threshold)))
    return grids


def largest_grid(frame: pd.DataFrame, metadata: dict) -> int:
    """Cells of the landscape's largest grid."""
    _, keys = grid_layout(frame, metadata)
    return int(frame.groupby(list(keys)).size().max()) if keys else len(frame)


def too_large(cells: int) -> str | None:
    """Why a grid of `cells` gets no topology (beyond MAX_CELLS), or None."""
    if cells > MAX_CELLS:
        return (f"not computed: a grid of {cells} cells is more than {MAX_CELLS} (1001²), "
                "beyond which GUDHI's cubical complex would break a job's memory bound")
    return None


def topology_table(grids: list[Grid]) -> pd.DataFrame:
    """Every grid's critical points, with their coordinates on the grid's axes (x, y)."""
    if not grids:
        return pd.DataFrame({"type": pd.Series(dtype=str)})
    frames = []
    for grid in grids:
        points = grid.topology.points
        located = points.assign(x=grid.x[points["row"].to_numpy()],
                                y=grid.y[points["col"].to_numpy()])
        frames.append(located.assign(**grid.keys)[
            [*grid.keys, "type", "x", "y", *[c for c in points.columns if c != "type"]]])
    return pd.concat(frames, ignore_index=True)


def topology_metrics(grids: list[Grid]) -> dict:
    """Counts summed over the grids, the largest persistence below a global minimum, and,
    with several grids, how many have more than one significant basin."""
    metrics = {f"topology_{c}": float(sum(g.topology.metrics[c] for g in grids)) for c in COUNTS}
    metrics["topology_largest_persistence"] = max(
        g.topology.metrics["largest_persistence"] for g in grids)
    if len(grids) > 1:
        metrics["topology_grids"] = float(len(grids))
        metrics["topology_grids_with_several_basins"] = float(sum(
            g.topology.metrics["significant_minima"] > 1 for g in grids))
    return metrics


def topology_metadata(metadata: dict, threshold: float, skipped: str | None = None) -> dict:
    """The landscape's metadata, and the rules the table was made by (or why it is empty)."""
    if skipped:
        return metadata | {"topology": {"threshold": threshold, "skipped": skipped}}
    return metadata | {"topology": {
        "threshold": threshold,
        "order": "loss, then row-major index; non-finite losses highest",
        "neighbours": "8 for sublevel sets, 4 for superlevel sets; outside the grid highest",
        "rows": "row: index along the first axis (x), col: along the second (y)",
    }}


def threshold_of(spec: dict) -> float:
    """A landscape's persistence threshold: its spec's (the config's and the API's always
    hold one; a table written before topology existed does not)."""
    return float(spec.get("topology_threshold", DEFAULT_THRESHOLD))


def check_threshold(value) -> float:
    """The persistence threshold, refused before any work unless a number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not (np.isfinite(value) and 0 <= value < 1):
        raise ValueError(f"topology_threshold must be a number in [0, 1) (a fraction of the "
                         f"loss range), got {value!r}")
    return float(value)


def with_topology(result, wanted: bool):
    """The result with its grids' topology (table, metrics, overlay), unless switched off."""
    if not wanted:
        return result
    return add_topology(result, threshold_of(result.metadata["landscape"]))


def add_topology(result, threshold: float = DEFAULT_THRESHOLD, figures=None):
    """Give a 2-D landscape's Result its topology: the table ``"topology"``, the
    ``topology_*`` metrics, and the overlay on its figures (`figures`: which; all by
    default). Returns the result."""
    from sklandscape.figures.topology import overlay_topology

    skipped = too_large(largest_grid(result.frame, result.metadata))
    grids = [] if skipped else landscape_grids(result.frame, result.metadata, threshold)
    result.tables["topology"] = topology_table(grids)
    result.table_metadata["topology"] = topology_metadata(result.metadata, threshold, skipped)
    if skipped:
        return result
    result.metrics.update(topology_metrics(grids))
    result.topology = grids
    for name in figures if figures is not None else list(result.figures):
        draw = result.figures[name]
        shown = grids[:1] if result.kind == "random_plane" else grids  # the plane of one seed
        result.figures[name] = (lambda draw=draw, shown=shown:
                                overlay_topology(draw(), shown))
    return result
