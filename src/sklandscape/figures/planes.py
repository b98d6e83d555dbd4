"""Figures of random planes through the trained weights (Li et al. 2018): one plane as a
contour map and a 3-D surface, and the spread of the picture across the directions' seeds.
Drawing only: every number comes from the tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sklandscape.figures.directions import (
    MINIMUM,
    SIGNED_STATISTICS,
    TRAINED,
    grid_minimum,
    loss_colorbar,
    loss_contour,
    loss_scale,
)
from sklandscape.figures.drawing import (
    add_3d,
    new_figure,
    surface_3d,
    title_inches,
    with_bad_colour,
)


def random_plane_figure(a, b, loss, loss_centre: float, *, title: str,
                        directions: tuple[str, str] = ("direction d1", "direction d2"),
                        loss_name: str = "MSE") -> Figure:
    """Contour and 3-D surface of one plane through the trained point (0, 0); `directions`
    name what a and b step along."""
    fig = new_figure(title, (12, 5.2))
    ax = fig.add_subplot(1, 2, 1)
    ax3 = add_3d(fig, 1, 2, 2)
    norm, levels, label = loss_scale(loss, loss_name)
    mappable = loss_contour(ax, a, b, loss, norm, levels)
    loss_colorbar(fig, mappable, norm, label, ax=ax)
    ax.plot([0.0], [0.0], ms=11, gid="trained",
            label=f"trained weights (a = b = 0), {loss_name} {loss_centre:.3g}", **TRAINED)
    found = grid_minimum(a, b, loss)
    if found:
        ax.plot([found[0]], [found[1]], ms=14, gid="grid-minimum", **MINIMUM,
                label=f"grid minimum {loss_name} {found[2]:.3g} at a={found[0]:.2f}, b={found[1]:.2f}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=8, frameon=False)
    ax.set(xlabel=f"a (step along {directions[0]})", ylabel=f"b (step along {directions[1]})")
    ax.set_title(f"{loss_name} contour map", fontsize=10)
    log_scale = isinstance(norm, LogNorm)
    z = np.log10(np.clip(loss, norm.vmin, norm.vmax)) if log_scale else loss
    lo, hi = (np.log10(norm.vmin), np.log10(norm.vmax)) if log_scale else (norm.vmin, norm.vmax)
    surface_3d(ax3, a, b, z, cmap=with_bad_colour("viridis"), lo=lo, hi=hi,
                zlabel=f"log10 {loss_name}" if log_scale else f"{loss_name}",
                xlabel=f"a ({directions[0].split(',')[0]})",
                ylabel=f"b ({directions[1].split(',')[0]})")
    return fig


def seed_spread_figure(a, b, planes: dict, stats: pd.DataFrame, statistics, *,
                       title: str, loss_name: str = "MSE") -> Figure:
    """One small map per seed on a shared scale, their 1-D cuts overlaid, the spread table."""
    seeds = list(planes)
    k = len(seeds)
    fig = new_figure(title, (max(12.0, 2.6 * k + 1.5), 8.6), layout=None)
    map_grid, colorbar_box, cut_grid = _spread_grids(fig, k)
    norm, levels, label = loss_scale(np.concatenate([p.ravel() for p in planes.values()]),
                                     loss_name)
    maps = [fig.add_subplot(map_grid[0, 0])]
    maps += [fig.add_subplot(map_grid[0, m], sharey=maps[0]) for m in range(1, k)]
    for ax, seed in zip(maps, seeds):
        mappable = loss_contour(ax, a, b, planes[seed], norm, levels, lines=False)
        ax.plot([0.0], [0.0], ms=7, **TRAINED)
        ax.set_title(f"seed {seed}", fontsize=10)
        ax.set_xlabel("a (along d1)", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        if ax is not maps[0]:
            ax.tick_params(labelleft=False)
    maps[0].set_ylabel("b (along d2)", fontsize=9)
    loss_colorbar(fig, mappable, norm, label + "\n(shared)",
                  cax=fig.add_axes(colorbar_box, label="<colorbar>"))
    cut_a, cut_b, table = (fig.add_subplot(cut_grid[0, m]) for m in range(3))
    i0, j0 = int(np.argmin(np.abs(a))), int(np.argmin(np.abs(b)))
    log_scale = isinstance(norm, LogNorm)
    for seed in seeds:
        cut_a.plot(a, planes[seed][:, j0], lw=1.4, label=f"seed {seed}")
        cut_b.plot(b, planes[seed][i0, :], lw=1.4, label=f"seed {seed}")
    for ax, axis in ((cut_a, "a (along d1), b = 0"), (cut_b, "b (along d2), a = 0")):
        ax.set_xlabel(axis)
        ax.set_ylabel(f"{loss_name} (log scale)" if log_scale else f"{loss_name}")
        if log_scale:
            ax.set_yscale("log")
        ax.axvline(0.0, color="red", lw=0.8, ls=":")
        ax.grid(alpha=0.3)
    cut_a.set_title("1-D cut along d1 through the trained weights", fontsize=10)
    cut_b.set_title("1-D cut along d2 through the trained weights", fontsize=10)
    cut_a.legend(fontsize=8)
    _spread_table(table, stats, statistics)
    return fig


def _spread_grids(fig, k: int):
    """Fixed places (inches from the edges) of the k square maps with their colour bar, and
    of the row below: two cuts and the table. Placed by hand: constrained layout of these
    panels cost more than drawing them."""
    width, height = fig.get_size_inches()
    left, gap, bar = 0.8, 0.3, 1.5  # bar: gap, colour bar and its two-line label
    top = title_inches(fig) + 0.35  # room for the maps' titles
    cell = min((width - left - bar - (k - 1) * gap) / k, 0.36 * height)
    maps = fig.add_gridspec(1, k, left=left / width, right=(left + k * cell + (k - 1) * gap) / width,
                            top=1 - top / height, bottom=1 - (top + cell) / height,
                            wspace=gap / cell)
    colorbar_box = [(left + k * cell + (k - 1) * gap + 0.3) / width,
                    1 - (top + cell) / height, 0.2 / width, cell / height]
    cuts_top = top + cell + 1.2  # below the maps' tick labels and x label, and the cuts' titles
    cuts = fig.add_gridspec(1, 3, width_ratios=[1, 1, 1.1], left=left / width,
                            right=1 - 0.25 / width, top=1 - cuts_top / height,
                            bottom=0.65 / height, wspace=0.3)
    return maps, colorbar_box, cuts


def _spread_table(ax, stats: pd.DataFrame, statistics) -> None:
    ax.set_axis_off()
    rows = []
    for stat in statistics:
        column = stats[stat].replace([np.inf, -np.inf], np.nan).to_numpy(float)
        mean, std = np.nanmean(column), np.nanstd(column)
        # a relative spread only means something for a quantity on a ratio scale
        cv = std / abs(mean) if mean and stat not in SIGNED_STATISTICS else np.nan
        rows.append([stat, f"{mean:.3g}", f"{std:.2g}", f"{cv:.0%}" if np.isfinite(cv) else "-"])
    table = ax.table(cellText=rows, colLabels=["statistic", "mean", "std", "std / |mean|"],
                     loc="center", cellLoc="right", colLoc="right")
    table.auto_set_font_size(False)
    table.set_fontsize(8.5)
    table.scale(1.0, 1.25)
    ax.set_title(f"spread over the {len(stats)} seeds\n(range_a/range_b: max - min on the cut)",
                 fontsize=10)
