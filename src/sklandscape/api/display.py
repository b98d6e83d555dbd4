"""Displays, drawn on any matplotlib Axes as scikit-learn's inspection Displays draw
(``from_estimator``, ``from_result``, ``from_parquet``, then ``plot(ax=...)``), so that two
results share a figure and a pipeline table is re-plotted in a notebook: LandscapeDisplay, a
2-D landscape's map; InterpolationDisplay, the loss from the initial to the trained weights."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sklandscape import io
from sklandscape.figures.directions import draw_interpolation
from sklandscape.figures.drawing import colour_scale, grid_of, loss_of, masked, with_bad_colour
from sklandscape.kinds import names

# kind -> how its table names the two axes (None: from the metadata)
PLANE_AXES = ("a", "b")
MAP_KINDS = names(two_d=True)


@dataclass
class LandscapeDisplay:
    """One 2-D landscape: `values` over the grid `x` by `y` (values[i, j] at x[i], y[j]).

    Make one with ``from_estimator``, ``from_result`` or ``from_parquet``; ``plot`` draws it
    and sets ``ax_``, ``figure_`` and ``colorbar_``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, numpy as np, sklandscape as sl
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.neural_network import MLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=20, random_state=0)
    >>> model = model.fit(X, y / 100)  # doctest: +SKIP
    >>> fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    >>> first = sl.LandscapeDisplay.from_estimator(model, X, y / 100, "weights",
    ...     axes=("W1[0,0]", "W2[0,0]")).plot(ax=left)  # doctest: +SKIP
    >>> second = sl.LandscapeDisplay.from_estimator(model, X, y / 100, "random_plane",
    ...     progress=False).plot(ax=right)  # doctest: +SKIP
    """

    x: np.ndarray
    y: np.ndarray
    values: np.ndarray
    x_label: str
    y_label: str
    value_label: str
    title: str
    centre: tuple[float, float] | None = None

    @classmethod
    def from_estimator(cls, model, X, y, kind: str = "weights", *, value: str = "loss",
                       seed: int | None = None, pair: tuple[str, str] | None = None,
                       **options) -> LandscapeDisplay:
        """Compute the landscape `kind` (``sl.<kind>(model, X, y, **options)``, its topology
        left out) and take its map."""
        import sklandscape

        _check_kind(kind, f"kind={kind!r}")
        result = getattr(sklandscape, kind)(model, X, y, **{"topology": False, **options})
        return cls.from_result(result, value=value, seed=seed, pair=pair)

    @classmethod
    def from_result(cls, result, *, value: str = "loss", seed: int | None = None,
                    pair: tuple[str, str] | None = None) -> LandscapeDisplay:
        """The map of a Result of ``sl.<kind>`` (a 2-D kind)."""
        table = next(iter(result.tables))
        return cls._from_table(result.tables[table], result.table_metadata[table],
                               f"the result {result.name!r}", result.name, value, seed, pair)

    @classmethod
    def from_parquet(cls, path, *, value: str = "loss", seed: int | None = None,
                     pair: tuple[str, str] | None = None) -> LandscapeDisplay:
        """The map of a landscape table the pipeline wrote (results/landscapes/<name>.parquet),
        or ``Result.to_parquet``: a random plane's `seed` (default its first) or a weight
        pair's `pair` of names (default the first), and its column `value` (``"loss"``,
        ``"loss_heldout"``, ``"accuracy"``, …)."""
        frame, metadata = io.read_table(path)
        return cls._from_table(frame, metadata, str(path), Path(path).stem, value, seed, pair)

    @classmethod
    def _from_table(cls, frame: pd.DataFrame, metadata: dict, source: str, name: str,
                    value: str, seed, pair) -> LandscapeDisplay:
        spec = metadata.get("landscape")
        if not isinstance(spec, dict) or "kind" not in spec:
            raise ValueError(f"{source} is not a landscape table (its metadata has no "
                             "'landscape'): give results/landscapes/<name>.parquet")
        kind = spec["kind"]
        _check_kind(kind, source)
        grid = {"weights": spec.get("axes", []), "input_space": metadata.get("plane", {}).get(
            "columns", []), "weight_pairs": ["x", "y"]}.get(kind, list(PLANE_AXES))
        missing = [c for c in grid if c not in frame.columns]
        if missing:
            raise ValueError(f"{source} is not a landscape table: it has no grid columns "
                             f"{missing} (a .stats, .directions or .topology table?); give "
                             "results/landscapes/<name>.parquet")
        if value not in frame.columns:
            raise ValueError(f"{source} has no column {value!r}; its columns are "
                             f"{list(frame.columns)}")
        network = metadata.get("network", {}).get("name", "the network")
        labels, centre, title = None, None, f"{name}: {value} of {network}"
        if kind == "weights":
            axes = tuple(spec["axes"])
            centre = tuple(float(metadata["centre"][a]) for a in axes)
        elif kind == "input_space":
            axes = tuple(metadata["plane"]["columns"])
            labels = tuple(metadata["plane"]["names"])
        elif kind == "weight_pairs":
            pairs = list(dict.fromkeys(zip(frame["x_name"], frame["y_name"])))
            chosen = tuple(pair) if pair is not None else pairs[0]
            if chosen not in pairs:
                raise ValueError(f"{source} has no pair {chosen}; its pairs are {pairs}")
            frame = frame[(frame["x_name"] == chosen[0]) & (frame["y_name"] == chosen[1])]
            axes, labels = ("x", "y"), chosen
            title += f", {chosen[0]} x {chosen[1]}"
        else:  # the planes through the trained weights: (a, b), the trained point at (0, 0)
            axes, centre = PLANE_AXES, (0.0, 0.0)
            if kind == "random_plane":
                seeds = [int(s) for s in dict.fromkeys(frame["seed"])]
                chosen = seeds[0] if seed is None else seed
                if chosen not in seeds:
                    raise ValueError(f"{source} has no seed {chosen!r}; its seeds are {seeds}")
                frame = frame[frame["seed"] == chosen]
                title += f", seed {chosen}"
            labels = ("a (along d1)", "b (along d2)")
        x, y, values = grid_of(frame, axes[0], axes[1], value)
        return cls(x, y, values, *(labels or axes), value, title, centre)

    def plot(self, ax=None, *, cmap: str = "magma", contours: int = 10, **kwargs
             ) -> LandscapeDisplay:
        """Draw the map on `ax` (a new figure's Axes by default): the values as colours (a
        scale robust to a few huge values), `contours` contour lines, the trained point as a
        star where the table knows it. `kwargs` go to ``pcolormesh``. Returns the display,
        with ``ax_``, ``figure_`` and ``colorbar_`` set."""
        import matplotlib.pyplot as plt
        from matplotlib.colors import Normalize

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 5))
        lo, hi, clipped = colour_scale(self.values)
        style = {"cmap": with_bad_colour(cmap), "norm": Normalize(lo, hi), "shading": "nearest"}
        mesh = ax.pcolormesh(self.x, self.y, masked(self.values, hi).T, **(style | kwargs))
        finite = np.isfinite(self.values)
        if contours and finite.sum() > 3 and lo < hi and min(self.values.shape) > 1:
            ax.contour(self.x, self.y, np.where(finite, np.minimum(self.values, hi), hi).T,
                       levels=np.linspace(lo, hi, contours + 2)[1:-1], colors="white",
                       linewidths=0.6, alpha=0.7)
        if self.centre is not None:
            ax.plot(*self.centre, marker="*", markersize=14, color="gold",
                    markeredgecolor="black", linestyle="none", label="trained weights")
            ax.legend(loc="upper right", fontsize=8)
        label = self.value_label + (f" (colour scale clipped at {hi:.3g})" if clipped else "")
        self.colorbar_ = ax.figure.colorbar(mesh, ax=ax, label=label)
        ax.set(xlabel=self.x_label, ylabel=self.y_label)
        ax.set_title(textwrap.fill(self.title, 60), fontsize=10)
        self.ax_, self.figure_ = ax, ax.figure
        return self


def _check_kind(kind: str, where: str) -> None:
    if kind not in MAP_KINDS:
        raise ValueError(f"{where}: a {kind!r} landscape is not a 2-D map; LandscapeDisplay "
                         f"draws {', '.join(MAP_KINDS)}")


@dataclass
class InterpolationDisplay:
    """The loss along the straight line from a network's initial to its trained weights,
    (1 - alpha)·initial + alpha·trained, as ``sl.interpolation`` computes it.

    Make one with ``from_estimator``, ``from_result`` or ``from_parquet``; ``plot`` draws it
    and sets ``ax_``, ``figure_`` and ``line_``. Plotted with ``annotate=False`` on the Axes
    of another, a second network's curve is compared with the first's.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPRegressor
    >>> X = np.linspace(-3, 3, 60)[:, None]; y = np.sin(X).ravel()
    >>> fits = [sl.fit(MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=200,
    ...                             random_state=seed), X, y, progress=False) for seed in (0, 1)]
    >>> fig, ax = plt.subplots()
    >>> first = sl.InterpolationDisplay.from_estimator(fits[0].model, X, y, fits[0],
    ...                                                resolution=21).plot(ax=ax, label="seed 0")
    >>> second = sl.InterpolationDisplay.from_estimator(fits[1].model, X, y, fits[1],
    ...     resolution=21).plot(ax=ax, label="seed 1", annotate=False)
    >>> len(first.line_.get_xdata()), first.ax_ is second.ax_
    (21, True)
    """

    alpha: np.ndarray
    loss: np.ndarray
    loss_initial: float
    loss_trained: float
    loss_name: str
    title: str
    loss_heldout: np.ndarray | None = None

    @classmethod
    def from_estimator(cls, model, X, y, initial, **options) -> InterpolationDisplay:
        """Compute ``sl.interpolation(model, X, y, initial, **options)`` (its progress bar
        off unless asked for) and take its curve."""
        import sklandscape  # by attribute: a pipeline job's code hash (provenance) reads
        # imports, and a figure drawn through this display does not run sl.interpolation

        return cls.from_result(sklandscape.interpolation(model, X, y, initial,
                                                         **{"progress": False, **options}))

    @classmethod
    def from_result(cls, result) -> InterpolationDisplay:
        """The curve of a Result of ``sl.interpolation``."""
        if getattr(result, "kind", None) != "interpolation":
            raise ValueError(f"InterpolationDisplay draws an interpolation result, not "
                             f"{getattr(result, 'kind', type(result).__name__)!r}")
        return cls._from_table(result.frame, result.metadata, result.name,
                               result.metrics.get("loss_initial"))

    @classmethod
    def from_parquet(cls, path) -> InterpolationDisplay:
        """The curve of an interpolation table the pipeline wrote
        (results/landscapes/<name>.parquet), or ``Result.to_parquet``."""
        frame, metadata = io.read_table(path)
        if metadata.get("landscape", {}).get("kind") != "interpolation" or \
                not {"alpha", "loss"} <= set(frame.columns):
            raise ValueError(f"{path} is not an interpolation table (kind "
                             f"{metadata.get('landscape', {}).get('kind')!r}, columns "
                             f"{list(frame.columns)})")
        return cls._from_table(frame, metadata, Path(path).stem, None)

    @classmethod
    def _from_table(cls, frame, metadata, name, loss_initial) -> InterpolationDisplay:
        alpha, loss = frame["alpha"].to_numpy(), frame["loss"].to_numpy()
        if loss_initial is None:  # the table's metadata keeps it (alpha = 0 may be off grid)
            loss_initial = metadata.get("initial", {}).get("loss")
        if loss_initial is None:  # a table written before it did: its alpha = 0 row, if any
            at_zero = loss[alpha == 0.0]
            loss_initial = float(at_zero[0]) if at_zero.size else float("nan")
        network = metadata.get("network", {}).get("name", "the network")
        loss_name = loss_of(metadata)
        title = (f"{name}: {loss_name} of {network} along the straight line from its initial "
                 f"weights (alpha = 0) to its trained weights (alpha = 1)")
        heldout = frame["loss_heldout"].to_numpy() if "loss_heldout" in frame else None
        return cls(alpha, loss, float(loss_initial), float(metadata["centre"]["loss"]),
                   loss_name, title, heldout)

    def plot(self, ax=None, *, label: str | None = None, annotate: bool = True, **kwargs
             ) -> InterpolationDisplay:
        """Draw the curve on `ax` (a new figure's Axes by default). `annotate` adds the band
        between the ends, the two ends, the verdict (monotone or its barrier) and the axis
        labels; turn it off for a second curve on the same Axes. `label` names the curve in
        the legend; `kwargs` go to ``Axes.plot``. Returns the display, with ``ax_``,
        ``figure_`` and ``line_`` set."""
        from sklandscape.api.directions import interpolation_shape

        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(9, 5))
            ax.figure.suptitle(textwrap.fill(self.title, 100), fontsize=10)
        shape = interpolation_shape(self.alpha, self.loss, self.loss_initial, self.loss_trained)
        self.line_ = draw_interpolation(
            ax, self.alpha, self.loss, self.loss_initial, self.loss_trained, shape,
            heldout=self.loss_heldout, loss_name=self.loss_name, label=label,
            annotate=annotate, **kwargs)
        if not annotate and label is not None:
            ax.legend(fontsize=8)
        self.ax_, self.figure_ = ax, ax.figure
        return self
