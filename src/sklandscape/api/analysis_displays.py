"""Displays of the analyses' figures, drawn on any matplotlib Axes as scikit-learn's inspection
Displays draw (``from_estimator``, ``from_result``, ``from_parquet``, then ``plot(ax=...)``),
both of the curvature analysis: SpectrumDisplay, the Hessian's eigenvalue density; CutsDisplay,
the loss along the Hessian's top eigenvectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sklandscape import io
from sklandscape.figures.drawing import loss_of
from sklandscape.figures.spectrum import draw_cut, draw_density

CUT_COLUMNS = ("rank", "t", "loss", "quadratic", "eigenvalue")
NODE_COLUMNS = ("probe", "node", "weight")


def _curvature(model, X, y, landscape, options):
    import sklandscape  # by attribute: a pipeline job's code hash (provenance) reads imports,
    # and a figure drawn through these displays does not run sl.curvature

    return sklandscape.curvature(model, X, y, landscape, **{"progress": False, **options})


def _table_of(result, table: str, display: str):
    if getattr(result, "kind", None) != "curvature":
        raise ValueError(f"{display} draws a curvature result, not "
                         f"{getattr(result, 'kind', type(result).__name__)!r}")
    return result.tables[table], result.table_metadata[table], f"the result {result.name!r}"


def _missing(frame, columns, source: str, table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{source} is not a curvature analysis' {table} table: it has no "
                         f"columns {missing}; give results/analyses/<name>/{table}.parquet")


@dataclass
class SpectrumDisplay:
    """The eigenvalue density of the Hessian at the trained weights, as ``sl.curvature``
    computes it (stochastic Lanczos quadrature's nodes and weights, or the exact eigenvalues;
    its table ``"spectrum"``, the pipeline's ``results/analyses/<name>/spectrum.parquet``).

    ``plot`` sets ``ax_``, ``figure_`` and ``line_``. Plotted with ``annotate=False`` on the
    Axes of another, a second network's density is compared with the first's on its scale.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPRegressor
    >>> X = np.linspace(-3, 3, 60)[:, None]; y = np.sin(X).ravel()
    >>> model = MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", solver="lbfgs",
    ...                      max_iter=2000, random_state=0).fit(X, y)
    >>> slice_ = sl.weights(model, X, y, axes=("W1[0,0]", "W2[0,0]"), span=0.5, resolution=5,
    ...                     progress=False)
    >>> shown = sl.SpectrumDisplay.from_estimator(model, X, y, slice_).plot()
    >>> shown.lambda_max > 0
    True
    """

    nodes: pd.DataFrame
    lambda_max: float
    trace: float
    trace_error: float
    loss_name: str = "MSE"
    note: str = ""

    @classmethod
    def from_estimator(cls, model, X, y, landscape, **options) -> SpectrumDisplay:
        """Compute ``sl.curvature(model, X, y, landscape, **options)`` (its progress bar off
        unless asked for) and take its spectrum."""
        return cls.from_result(_curvature(model, X, y, landscape, options))

    @classmethod
    def from_result(cls, result) -> SpectrumDisplay:
        """The spectrum of a Result of ``sl.curvature``."""
        return cls.from_table(*_table_of(result, "spectrum", "SpectrumDisplay"))

    @classmethod
    def from_parquet(cls, path) -> SpectrumDisplay:
        """The spectrum the pipeline wrote: results/analyses/<name>/spectrum.parquet."""
        frame, metadata = io.read_table(path)
        return cls.from_table(frame, metadata, str(path))

    @classmethod
    def from_table(cls, frame, metadata, source: str = "the table") -> SpectrumDisplay:
        """A spectrum table and its metadata, as from_result and from_parquet read them."""
        _missing(frame, NODE_COLUMNS, source, "spectrum")
        if "lambda_max" not in metadata:
            raise ValueError(f"{source} has no lambda_max in its metadata: not a curvature "
                             "analysis' spectrum table")
        note = (f"{metadata.get('size', '?')} weights, {metadata.get('method', '?')}"
                + (f" ({metadata['products']} Hessian-vector products)"
                   if metadata.get("method") not in (None, "exact") else ""))
        return cls(frame, float(metadata["lambda_max"]), float(metadata["trace"]),
                   float(metadata.get("trace_error") or 0.0), loss_of(metadata), note)

    def plot(self, ax=None, *, label: str | None = None, annotate: bool = True, **kwargs
             ) -> SpectrumDisplay:
        """Draw the density on `ax` (a new figure's Axes by default): with `annotate`, also
        the quadrature nodes, the largest eigenvalue, the trace and the axes' symmetric-log
        scale. `label` names the curve in the legend; `kwargs` go to ``Axes.plot``. Returns
        the display, with ``ax_``, ``figure_`` and ``line_`` set."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(10, 5.6), layout="constrained")
        self.line_ = draw_density(ax, self.nodes, lambda_max=self.lambda_max, trace=self.trace,
                                  trace_error=self.trace_error, note=self.note,
                                  loss_name=self.loss_name, label=label, annotate=annotate,
                                  **kwargs)
        if not annotate and label is not None:
            ax.legend(fontsize=8)
        self.ax_, self.figure_ = ax, ax.figure
        return self


@dataclass
class CutsDisplay:
    """The loss along each of the Hessian's top eigenvectors v, theta + t·v, against the
    second-order model L + (g·v) t + ½ λ t², as ``sl.curvature`` computes them (its table
    ``"eigen_cuts"``, the pipeline's ``results/analyses/<name>/eigen_cuts.parquet``).

    ``plot`` draws one panel per eigenvector and sets ``axes_`` (one per eigenvector drawn),
    ``ax_`` (the first), ``figure_`` and ``lines_``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPRegressor
    >>> X = np.linspace(-3, 3, 60)[:, None]; y = np.sin(X).ravel()
    >>> model = MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", solver="lbfgs",
    ...                      max_iter=2000, random_state=0).fit(X, y)
    >>> slice_ = sl.weights(model, X, y, axes=("W1[0,0]", "W2[0,0]"), span=0.5, resolution=5,
    ...                     progress=False)
    >>> cuts = sl.CutsDisplay.from_estimator(model, X, y, slice_, top_k=2, cut_points=11)
    >>> fig, ax = plt.subplots()
    >>> cuts.plot(ax=ax, ranks=[0]).ax_ is ax  # the sharpest direction alone, on your Axes
    True
    """

    cuts: pd.DataFrame
    loss_name: str = "MSE"

    @classmethod
    def from_estimator(cls, model, X, y, landscape, **options) -> CutsDisplay:
        """Compute ``sl.curvature(model, X, y, landscape, **options)`` (its progress bar off
        unless asked for) and take its cuts."""
        return cls.from_result(_curvature(model, X, y, landscape, options))

    @classmethod
    def from_result(cls, result) -> CutsDisplay:
        """The cuts of a Result of ``sl.curvature``."""
        return cls.from_table(*_table_of(result, "eigen_cuts", "CutsDisplay"))

    @classmethod
    def from_parquet(cls, path) -> CutsDisplay:
        """The cuts the pipeline wrote: results/analyses/<name>/eigen_cuts.parquet (or
        ``Result.to_parquet(path, "eigen_cuts")``)."""
        frame, metadata = io.read_table(path)
        return cls.from_table(frame, metadata, str(path))

    @classmethod
    def from_table(cls, frame, metadata, source: str = "the table") -> CutsDisplay:
        """An eigen_cuts table and its metadata, as from_result and from_parquet read them."""
        _missing(frame, CUT_COLUMNS, source, "eigen_cuts")
        return cls(frame, loss_of(metadata))

    @property
    def ranks(self) -> list[int]:
        """The eigenvectors' ranks, 0 the largest eigenvalue."""
        return sorted(int(r) for r in self.cuts["rank"].unique())

    def plot(self, ax=None, *, ranks=None, **kwargs) -> CutsDisplay:
        """Draw the cuts of `ranks` (default all), one per Axes: `ax` is one Axes (one rank),
        a sequence of Axes (one per rank), or None (a new figure, a row of panels). `kwargs`
        go to each loss curve's ``Axes.plot``. Returns the display, with ``axes_``, ``ax_``,
        ``figure_`` and ``lines_`` set."""
        ranks = self.ranks if ranks is None else [int(r) for r in ranks]
        unknown = sorted(set(ranks) - set(self.ranks))
        if unknown or not ranks:
            raise ValueError(f"ranks={ranks}: this table has the ranks {self.ranks}")
        if ax is None:
            import matplotlib.pyplot as plt

            _, axes = plt.subplots(1, len(ranks), figsize=(4.3 * len(ranks), 3.6),
                                   squeeze=False, layout="constrained")
            axes = list(axes[0])
        else:
            axes = list(np.ravel(ax)) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
        if len(axes) != len(ranks):
            raise ValueError(f"{len(axes)} Axes for {len(ranks)} ranks {ranks}: give one Axes "
                             "per rank")
        self.lines_ = [draw_cut(a, self.cuts[self.cuts["rank"] == r], self.loss_name, **kwargs)
                       for a, r in zip(axes, ranks, strict=True)]
        axes[0].legend(fontsize=8)
        self.axes_, self.ax_, self.figure_ = axes, axes[0], axes[0].figure
        return self
