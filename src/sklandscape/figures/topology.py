"""A landscape's topology drawn over its map: the significant minima, saddles and maxima, and
each significant basin hatched, on the 2-D axes that shows that grid."""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

HATCHES = ["", "//", "\\\\", "..", "xx", "oo", "++", "--", "||", "**"]
MARKERS = {"minimum": ("o", "minimum", "minima"), "saddle": ("X", "saddle", "saddles"),
           "maximum": ("^", "maximum", "maxima")}
DRAWN_CELLS = 400  # basins are hatched on at most this many cells per axis
SMALL_AXES = 2.5  # inches: narrower maps (a corner plot's panels) get a one-line count


def _shows(ax, x: np.ndarray, y: np.ndarray) -> bool:
    """Whether `ax` is a 2-D map of the grid x, y: its limits are the grid's, within a cell
    (a mesh drawn with shading="nearest" reaches half a cell beyond)."""
    if ax.name != "rectilinear" or not ax.get_visible():
        return False
    cell_x = (x[-1] - x[0]) / max(len(x) - 1, 1)
    cell_y = (y[-1] - y[0]) / max(len(y) - 1, 1)
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    return (abs(x0 - x[0]) <= cell_x and abs(x1 - x[-1]) <= cell_x
            and abs(y0 - y[0]) <= cell_y and abs(y1 - y[-1]) <= cell_y)


def overlay_topology(fig: Figure, grids) -> Figure:
    """Draw each grid's topology on the first 2-D axes of `fig` that maps it.

    `grids`: objects with ``x``, ``y`` (the axes' coordinates) and ``topology`` (a
    sklandscape.analyses.topology.Topology). Returns the figure.
    """
    taken = set()
    for grid in grids:
        ax = next((a for a in fig.axes if id(a) not in taken and _shows(a, grid.x, grid.y)), None)
        if ax is None:
            continue
        taken.add(id(ax))
        _draw(ax, grid.x, grid.y, grid.topology)
    return fig


def _draw(ax, x, y, topology) -> None:
    limits = ax.get_xlim(), ax.get_ylim()
    # hatching a 5001² grid would take minutes: every k-th cell is as good at this size
    step = max(1, -(-max(len(x), len(y)) // DRAWN_CELLS))
    basins = topology.basins[::step, ::step]
    labels, compact = np.unique(basins, return_inverse=True)
    if len(labels) > 1:
        X, Y = np.meshgrid(x[::step], y[::step], indexing="ij")
        levels = np.arange(len(labels) + 1) - 0.5
        # light hatching: the loss's own colours stay readable under it
        with matplotlib.rc_context({"hatch.linewidth": 0.4, "hatch.color": (1, 1, 1, 0.6)}):
            ax.contourf(X, Y, compact.reshape(basins.shape), levels=levels, colors="none",
                        hatches=[HATCHES[k % len(HATCHES)] for k in range(len(labels))])
        ax.contour(X, Y, compact.reshape(basins.shape), levels=levels[1:-1], colors="white",
                   linewidths=0.8, linestyles="--")
    points = topology.points[topology.points["significant"]]
    small = ax.get_window_extent().width / ax.figure.dpi < SMALL_AXES
    handles, counts = [], []
    for kind, (marker, one, many) in MARKERS.items():
        chosen = points[points["type"] == kind]
        counts.append(f"{len(chosen)} {one if len(chosen) == 1 else many}")
        if chosen.empty:
            continue
        ax.scatter(x[chosen["row"].to_numpy()], y[chosen["col"].to_numpy()], marker=marker,
                   s=12 if small else 40, facecolor="white", edgecolor="black", linewidth=0.6,
                   zorder=5)
        handles.append(Line2D([], [], marker=marker, linestyle="", markerfacecolor="white",
                              markeredgecolor="black", label=counts[-1]))
    ax.set_xlim(*limits[0])
    ax.set_ylim(*limits[1])
    if small:
        ax.text(0.02, 0.98, ", ".join(counts), transform=ax.transAxes, fontsize=5, va="top",
                bbox={"facecolor": "white", "alpha": 0.7, "pad": 1, "linewidth": 0})
        return
    basins = topology.metrics["significant_minima"]
    handles.append(Line2D([], [], linestyle="", label=(
        f"{basins} basin{'s' if basins != 1 else ''} (hatched); ripples below the "
        f"persistence threshold not marked")))
    ax.legend(handles=handles, loc="upper right", fontsize=6, framealpha=0.8,
              title="critical points (topology)", title_fontsize=6)
