"""Displays of the analyses' figures, drawn on any matplotlib Axes as scikit-learn's inspection
Displays draw (``from_estimator``, ``from_result``, ``from_parquet``, then ``plot(ax=...)``):
CutsDisplay, the loss along the Hessian's top eigenvectors (the curvature analysis)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sklandscape import io
from sklandscape.figures.drawing import loss_of
from sklandscape.figures.spectrum import draw_cut

CUT_COLUMNS = ("rank", "t", "loss", "quadratic", "eigenvalue")


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
        from sklandscape.api.analysis_functions import curvature

        return cls.from_result(curvature(model, X, y, landscape,
                                         **{"progress": False, **options}))

    @classmethod
    def from_result(cls, result) -> CutsDisplay:
        """The cuts of a Result of ``sl.curvature``."""
        if getattr(result, "kind", None) != "curvature":
            raise ValueError(f"CutsDisplay draws a curvature result, not "
                             f"{getattr(result, 'kind', type(result).__name__)!r}")
        return cls._checked(result.tables["eigen_cuts"], result.table_metadata["eigen_cuts"],
                            f"the result {result.name!r}")

    @classmethod
    def from_parquet(cls, path) -> CutsDisplay:
        """The cuts the pipeline wrote: results/analyses/<name>/eigen_cuts.parquet (or
        ``Result.to_parquet(path, "eigen_cuts")``)."""
        frame, metadata = io.read_table(path)
        return cls._checked(frame, metadata, str(path))

    @classmethod
    def _checked(cls, frame, metadata, source) -> CutsDisplay:
        missing = [c for c in CUT_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"{source} is not a curvature analysis' eigen_cuts table: it has no "
                             f"columns {missing}; give results/analyses/<name>/eigen_cuts.parquet")
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
