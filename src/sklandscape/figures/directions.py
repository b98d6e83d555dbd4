"""Figures of landscapes along chosen directions: the corner plot of weight pairs, random
planes and their spread across seeds, the initial-to-trained interpolation and the training
path on its PCA plane. Drawing only: every number comes from the tables. Random planes and their spread across seeds are in plots_planes.

Losses here often span many decades (a trained network's MSE next to a random point's), so
colour scales switch to logarithmic when the finite values span more than LOG_RATIO.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator, MaxNLocator

from sklandscape.figures.drawing import (
    BAD_COLOUR,
    grid_of,
    new_figure,
    title_inches,
    with_bad_colour,
)

LOG_RATIO = 100.0
N_LEVELS = 21
SIGNED_STATISTICS = {"cosine_d1_d2"}
# The trained point is drawn above the grid minimum, so it stays visible where they coincide.
TRAINED = dict(marker="X", color="red", mec="white", ls="none", zorder=6)
MINIMUM = dict(marker="*", color="white", mec="black", ls="none", zorder=5)


def loss_scale(values, loss_name: str = "MSE") -> tuple[Normalize, np.ndarray, str]:
    """A shared norm, contour levels and a colorbar label for the finite values given."""
    finite = np.asarray(values, float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return Normalize(0.0, 1.0), np.linspace(0.0, 1.0, N_LEVELS), f"{loss_name}"
    positive = finite[finite > 0]
    hi = float(finite.max())
    clipped = ""
    p99 = float(np.percentile(finite, 99))
    if p99 > 0 and hi > 1e3 * p99:  # overflow-sized outliers would flatten the map
        hi, clipped = p99, f" (clipped at {p99:.3g})"
    if positive.size and hi / float(positive.min()) > LOG_RATIO:
        lo = float(positive.min())
        return (LogNorm(lo, hi), np.geomspace(lo, hi, N_LEVELS),
                f"{loss_name} (log colour scale){clipped}")
    lo = float(finite.min())
    if hi <= lo:
        lo, hi = lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0)
    return Normalize(lo, hi), np.linspace(lo, hi, N_LEVELS), f"{loss_name}{clipped}"


def loss_colorbar(fig, mappable, norm, label, **kwargs):
    """A colorbar with readable ticks: decades on a log scale, round numbers otherwise."""
    cbar = fig.colorbar(mappable, **kwargs)
    if isinstance(norm, LogNorm):
        decades = np.log10(norm.vmax) - np.log10(norm.vmin)
        subs = (1.0,) if decades >= 2 else (1.0, 2.0, 5.0)
        ticks = LogLocator(base=10, subs=subs).tick_values(norm.vmin, norm.vmax)
    else:
        ticks = MaxNLocator(6).tick_values(norm.vmin, norm.vmax)
    # locators pad beyond the data; ticks outside the norm would stretch the bar
    slack = 1e-9 * max(abs(norm.vmin), abs(norm.vmax), norm.vmax - norm.vmin)
    if isinstance(norm, LogNorm):
        inside = [t for t in ticks if norm.vmin * (1 - 1e-9) <= t <= norm.vmax * (1 + 1e-9)]
    else:
        inside = [t for t in ticks if norm.vmin - slack <= t <= norm.vmax + slack]
    cbar.set_ticks(inside)
    cbar.minorticks_off()
    cbar.set_label(label)
    return cbar


def loss_contour(ax, x, y, z, norm, levels, cmap="viridis", lines=True):
    """Filled contour of z on the shared norm; values outside it are clipped to its ends."""
    z = np.asarray(z, float)
    ax.set_facecolor(BAD_COLOUR)
    # mask first: clipping would turn inf into the top colour instead of a grey hole
    zm = np.ma.clip(np.ma.masked_invalid(z), norm.vmin, norm.vmax)
    X, Y = np.meshgrid(x, y, indexing="ij")
    if zm.count() > 1 and float(zm.max()) > float(zm.min()):
        mappable = ax.contourf(X, Y, zm, levels=levels, norm=norm, cmap=with_bad_colour(cmap))
        inner = [v for v in levels[::4] if float(zm.min()) < v < float(zm.max())]
        if lines and inner:
            ax.contour(X, Y, zm, levels=inner, colors="k", linewidths=0.4, alpha=0.5)
    else:
        mappable = ax.pcolormesh(x, y, zm.T, norm=norm, cmap=with_bad_colour(cmap), shading="nearest")
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(y.min(), y.max())
    return mappable


def grid_minimum(x, y, z):
    finite = np.isfinite(z)
    if not finite.any():
        return None
    i, j = np.unravel_index(np.argmin(np.where(finite, z, np.inf)), z.shape)
    return x[i], y[j], z[i, j]


# --- weight pairs ------------------------------------------------------------------------


def corner_plot(table: pd.DataFrame, names: list[str], centre: dict, *, title: str,
                loss_name: str = "MSE") -> Figure:
    """Lower triangle of small contour panels, one per pair; one shared colour scale.

    The panel in row r, column c shows the pair (names[c], names[r + 1]): a column shares its
    x weight, a row its y weight. Only panels of pairs in the table are created (fewer axes
    to lay out: drawing, not computing, is most of this job's time).
    """
    n = len(names) - 1
    size = max(6.0, 1.75 * n + 2.0)
    fig = new_figure(title, (size + 1.2, size), layout=None)
    norm, levels, label = loss_scale(table["loss"].to_numpy(float), loss_name)
    groups = {pair: frame for pair, frame in table.groupby(["x_name", "y_name"], sort=False)}
    cells = [(r, c) for r in range(n) for c in range(r + 1) if (names[c], names[r + 1]) in groups]
    grid, colorbar_box, *grid_top_right = _corner_grid(fig, n, cells)
    column_axis, row_axis, panels, mappable = {}, {}, [], None
    for r, c in cells:
        pair = (names[c], names[r + 1])
        ax = fig.add_subplot(grid[r, c], sharex=column_axis.get(c), sharey=row_axis.get(r))
        column_axis.setdefault(c, ax)
        row_axis.setdefault(r, ax)
        x, y, z = grid_of(groups[pair], "x", "y", "loss")
        mappable = loss_contour(ax, x, y, z, norm, levels, lines=False)
        ax.plot([centre[pair[0]]], [centre[pair[1]]], ms=6, gid=f"trained {pair}", **TRAINED)
        found = grid_minimum(x, y, z)
        if found:
            ax.plot([found[0]], [found[1]], ms=7, gid=f"minimum {pair}", **MINIMUM)
        ax.set_box_aspect(1)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(3))
        ax.yaxis.set_major_locator(MaxNLocator(3))
        # names on the margins: below the lowest panel of a column, left of a row's first
        if not any(cc == c and rr > r for rr, cc in cells):
            ax.set_xlabel(names[c], fontsize=10)
        else:
            ax.tick_params(labelbottom=False)
        if not any(rr == r and cc < c for rr, cc in cells):
            ax.set_ylabel(names[r + 1], fontsize=10)
        else:
            ax.tick_params(labelleft=False)
        panels.append(ax)
    if mappable is not None:
        loss_colorbar(fig, mappable, norm, label + "\n(shared by all panels)",
                      cax=fig.add_axes(colorbar_box, label="<colorbar>"))
    # In the empty upper triangle; a figure legend does not take space from the panels.
    fig.legend(handles=[
        Line2D([], [], ms=8, label="trained weights (every panel passes through them)",
               **TRAINED),
        Line2D([], [], ms=10, label=f"lowest {loss_name} on that panel", **MINIMUM),
    ], loc="upper right", bbox_to_anchor=grid_top_right, fontsize=10, frameon=False)
    return fig


def _corner_grid(fig, n: int, cells: list[tuple[int, int]]):
    """Square panels in a fixed grid below the title, the colour bar's box to its right, and
    the grid's top right corner (figure fractions).

    Placed by hand rather than by constrained layout: the grid is regular, and laying out
    its ~20 small axes was most of the corner plot's drawing time. Margins in inches:
    tick labels (7 pt) plus a weight name (10 pt) left of and below the grid.
    """
    width, height = fig.get_size_inches()
    left, bottom, top = 0.8, 0.65, title_inches(fig) + 0.15
    colour_bar = 1.7  # gap, bar and its two-line label right of the grid
    # A panel with tick labels inside the triangle (a subset of pairs) needs a wider gap.
    lowest_in_column = {c: max(r for r, cc in cells if cc == c) for _, c in cells}
    first_in_row = {r: min(c for rr, c in cells if rr == r) for r, _ in cells}
    inner_labels = (any(r < n - 1 for r in lowest_in_column.values())
                    or any(c > 0 for c in first_in_row.values()))
    gap = 0.6 if inner_labels else 0.25  # room for tick labels at adjacent panel edges
    cell = min((width - left - colour_bar - (n - 1) * gap) / n,
               (height - bottom - top - (n - 1) * gap) / n)
    side = n * cell + (n - 1) * gap
    grid = fig.add_gridspec(n, n, left=left / width, right=(left + side) / width,
                            top=1 - top / height, bottom=1 - (top + side) / height,
                            wspace=gap / cell, hspace=gap / cell)
    bar_height = 0.6 * side
    colorbar_box = [(left + side + 0.35) / width,
                    1 - (top + side / 2 + bar_height / 2) / height, 0.2 / width,
                    bar_height / height]
    return grid, colorbar_box, (left + side) / width, 1 - top / height


# --- interpolation -----------------------------------------------------------------------


def interpolation_figure(alphas, loss, loss_initial: float, loss_trained: float, shape: dict,
                         *, title: str, heldout=None, loss_name: str = "MSE") -> Figure:
    """The loss along the line; with `heldout`, also on the rows the network did not see."""
    fig = new_figure(title, (9, 5))
    draw_interpolation(fig.add_subplot(), alphas, loss, loss_initial, loss_trained, shape,
                       heldout=heldout, loss_name=loss_name)
    return fig


def draw_interpolation(ax, alphas, loss, loss_initial: float, loss_trained: float, shape: dict,
                       *, heldout=None, loss_name: str = "MSE", label: str | None = None,
                       annotate: bool = True, **line_kwargs):
    """The interpolation curve on `ax`; `annotate`: also the band between the ends, the two
    ends, the verdict as the title, axis labels, grid and legend (off for a second curve on
    the same axes). Returns the curve's Line2D."""
    if annotate:
        ax.axvspan(0.0, 1.0, color="0.93", zorder=0, label="between initial and trained")
    style = {"color": "C0", "lw": 1.8, "zorder": 2} if annotate else {"lw": 1.8, "zorder": 2}
    line, = ax.plot(alphas, loss, **(style | line_kwargs), label=label or (
        f"{loss_name} along the line" + (" (training rows)" if heldout is not None else "")))
    if heldout is not None:
        ax.plot(alphas, heldout, color="C2" if annotate else line.get_color(), lw=1.6, ls="--",
                zorder=2, label=f"{loss_name} on the held-out rows")
    if not annotate:
        return line
    values = np.asarray(loss, float)
    if heldout is not None:
        values = np.concatenate([values, np.asarray(heldout, float)])
    ax.plot([0.0], [loss_initial], "o", color="C1", ms=8, zorder=3, gid="initial",
            label=f"initial weights (alpha = 0): {loss_name} {loss_initial:.3g}")
    ax.plot([1.0], [loss_trained], **{**TRAINED, "ms": 10}, gid="trained",
            label=f"trained weights (alpha = 1): {loss_name} {loss_trained:.3g}")
    finite = values[np.isfinite(values)]
    positive = finite[finite > 0]
    if positive.size and finite.size == positive.size and positive.max() / positive.min() > LOG_RATIO:
        ax.set_yscale("log")
        ax.set_ylabel(f"{loss_name} (log scale)")
    else:
        ax.set_ylabel(f"{loss_name}")
    ax.set_xlabel("alpha: theta = (1 - alpha)·initial + alpha·trained")
    verdict = ("monotone decrease from initial to trained" if shape["monotone_between"]
               else f"not monotone: largest rise {shape['max_rise_between']:.3g}, "
                    f"barrier {shape['barrier']:.3g}")
    ax.set_title(verdict, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return line


# --- trajectory on its PCA plane ---------------------------------------------------------


def trajectory_pca_figure(a, b, loss, path: pd.DataFrame, explained, *, title: str,
                          loss_name: str = "MSE") -> Figure:
    fig = new_figure(title, (13.5, 6.2))
    outer = fig.add_gridspec(2, 2, width_ratios=[1.35, 1])
    ax = fig.add_subplot(outer[:, 0])
    losses, distances = fig.add_subplot(outer[0, 1]), fig.add_subplot(outer[1, 1])
    norm, levels, label = loss_scale(np.concatenate([np.ravel(loss), path["loss"]]), loss_name)
    mappable = loss_contour(ax, a, b, loss, norm, levels)
    loss_colorbar(fig, mappable, norm, label, ax=ax)
    ax.plot(path["a"], path["b"], color="white", lw=1.0, zorder=3)
    points = ax.scatter(path["a"], path["b"], c=path["distance"], cmap="autumn", s=16,
                        edgecolors="black", linewidths=0.3, zorder=4, gid="path")
    fig.colorbar(points, ax=ax).set_label("path point's distance from the plane\n"
                                          "(Euclidean, in weight space)")
    ax.plot(path["a"].iloc[:1], path["b"].iloc[:1], "o", ms=10, color="C1", mec="black",
            zorder=5, gid="initial", label="initial weights (iteration 0)")
    ax.plot([0.0], [0.0], ms=12, gid="trained", label="trained weights (origin)", **TRAINED)
    ax.set_xlabel(f"a: first principal direction ({explained[0]:.1%} of the path's spread)")
    ax.set_ylabel(f"b: second principal direction ({explained[1]:.1%})")
    ax.set_title(f"{loss_name} on the plane, with the training path projected onto it", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=8, ncols=2, frameon=False)
    it = path["iteration"]
    losses.plot(it, path["loss"], lw=1.6, label=f"{loss_name} at the real path point")
    losses.plot(it, path["loss_projected"], lw=1.2, ls="--",
                label=f"{loss_name} at its projection (what the map shows)")
    if "loss_heldout" in path.columns:
        losses.plot(it, path["loss_heldout"], lw=1.4, ls="-.", color="C2",
                    label=f"{loss_name} on the held-out rows")
    both = np.concatenate([path["loss"], path["loss_projected"]])
    both = both[np.isfinite(both)]
    if both.size and both.min() > 0 and both.max() / both.min() > 10:
        losses.set_yscale("log")
    losses.set(ylabel=f"{loss_name}", title="loss along the path")
    losses.title.set_fontsize(10)
    losses.legend(fontsize=8)
    distances.plot(it, path["distance"], color="C3", lw=1.6, label="distance from the plane")
    distances.plot(it, path["offset"], color="0.5", lw=1.0, ls=":",
                   label="distance from the trained weights")
    distances.set(xlabel="iteration", ylabel="distance in weight space")
    distances.set_title(f"max distance from the plane {path['distance'].max():.3g} "
                        f"(path spans {path['offset'].max():.3g})", fontsize=10)
    distances.legend(fontsize=8)
    for panel in (losses, distances):
        panel.grid(alpha=0.3)
    return fig
