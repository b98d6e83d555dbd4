"""Training loss beside held-out loss on one slice: the picture that flat-versus-sharp and
generalisation questions are asked of (Keskar et al. 2017; Li et al. 2018). Drawing only."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from sklandscape.figures.drawing import (
    colour_scale,
    label_axes,
    masked,
    new_figure,
    with_bad_colour,
)

TRAINED = dict(marker="X", ms=11, color="red", mec="white", ls="none", zorder=6)


def train_heldout_figure(first, second, train, heldout, centre, names, *, title: str,
                         n_train: int, n_heldout: int, loss_name: str = "MSE") -> Figure:
    """Left two: the training and the held-out loss over the slice, each on its own colour
    scale (their levels can differ by far more than their shapes), the trained point marked
    and each map's minimum starred. Right: both along the two lines through the trained
    point, on one axis, where their levels compare."""
    first, second = np.asarray(first, float), np.asarray(second, float)
    train, heldout = np.asarray(train, float), np.asarray(heldout, float)
    cmap = with_bad_colour("viridis")
    fig = new_figure(title, (16, 5.6))
    grid = fig.add_gridspec(2, 3, width_ratios=[1, 1, 0.9])
    maps = [fig.add_subplot(grid[:, 0]), fig.add_subplot(grid[:, 1])]
    X, Y = np.meshgrid(first, second, indexing="ij")
    loss = loss_name
    for ax, values, what, n in ((maps[0], train, "training", n_train),
                                (maps[1], heldout, "held-out", n_heldout)):
        lo, hi, clipped = colour_scale(values)
        mesh = ax.pcolormesh(X, Y, masked(values, hi), cmap=cmap, norm=Normalize(lo, hi),
                             shading="nearest")
        fig.colorbar(mesh, ax=ax, label=f"{what} {loss}" + (f" (clipped at {hi:.3g})"
                                                              if clipped else ""))
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MaxNLocator(5))
        ax.plot(*centre, **TRAINED)
        if np.isfinite(values).any():
            i, j = np.unravel_index(np.nanargmin(np.where(np.isfinite(values), values, np.nan)),
                                    values.shape)
            ax.plot(first[i], second[j], "*", ms=14, color="white", mec="black", zorder=5)
            what_min = f"minimum {values[i, j]:.3g}"
        else:
            what_min = "no finite value"
        label_axes(ax, names[0], names[1], f"{what} {loss} ({n} rows); {what_min}")
    i0 = int(np.argmin(np.abs(first - centre[0])))
    j0 = int(np.argmin(np.abs(second - centre[1])))
    for row, (axis, values_train, values_heldout, at, name) in enumerate((
            (first, train[:, j0], heldout[:, j0], centre[0], names[0]),
            (second, train[i0, :], heldout[i0, :], centre[1], names[1]))):
        ax = fig.add_subplot(grid[row, 2])
        ax.plot(axis, values_train, color="C0", lw=1.6)
        ax.plot(axis, values_heldout, color="C1", lw=1.6, ls="--")
        ax.axvline(at, color="red", lw=0.8, alpha=0.7)
        ax.set(xlabel=name, ylabel=loss)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_title(f"along {name} through the trained point", fontsize=9)
        if row == 0:
            ax.legend(handles=[Line2D([], [], color="C0", lw=1.6, label="training"),
                               Line2D([], [], color="C1", lw=1.6, ls="--", label="held-out"),
                               Line2D([], [], color="red", lw=0.8, label="trained weights")],
                      fontsize=7, loc="best")
    return fig
