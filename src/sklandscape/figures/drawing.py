"""Drawing helpers shared by every figure module: a figure with a wrapped title, a flat
grid table reshaped for plotting, robust colour scales, filled contours, 3-D surfaces,
legends, and byte-reproducible saving. Drawing only: nothing is evaluated here.

Only the object-oriented API is used (no pyplot), so importing this module leaves no global
figure state and parallel Snakemake jobs cannot interfere.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sklandscape.provenance import JOB_PROVENANCE

DPI = 120
BAD_COLOUR = "0.55"  # grey: never part of viridis/magma, so non-finite cells stand out


TITLE_POINTS = 12
TITLE_TOP_INCHES = 0.1  # from the top edge to the title, on figures laid out by hand


def new_figure(title: str, size: tuple[float, float], *, layout: str | None = "constrained"
               ) -> Figure:
    """A figure with the title wrapped on top. layout=None: the caller places the axes itself
    (constrained layout can be most of a figure's drawing time), below title_inches(fig)."""
    fig = Figure(figsize=size, layout=layout)
    placed = {} if layout else {"y": 1 - TITLE_TOP_INCHES / size[1]}
    # ~11 characters per inch keeps long titles to a few lines at 12 pt.
    fig.suptitle(textwrap.fill(title, width=max(40, int(size[0] * 11))), fontsize=TITLE_POINTS,
                 **placed)
    return fig


def display_figure(display, title: str, size: tuple[float, float]) -> Figure:
    """The pipeline's figure of a one-Axes Display (sklandscape.api): `title` on top, the
    display drawn on the figure's one Axes (no pyplot: a job keeps no figure state)."""
    fig = new_figure(title, size)
    return display.plot(ax=fig.add_subplot()).figure_


def title_inches(fig: Figure) -> float:
    """Height the wrapped title of a new_figure(..., layout=None) takes from the top edge."""
    lines = fig.get_suptitle().count("\n") + 1
    return TITLE_TOP_INCHES + lines * TITLE_POINTS * 1.3 / 72


def grid_of(table: pd.DataFrame, xcol: str, ycol: str, zcol: str):
    """Reshape a flat regular-grid table to (x(G0,), y(G1,), Z(G0, G1))."""
    xs, xi = np.unique(table[xcol].to_numpy(float), return_inverse=True)
    ys, yi = np.unique(table[ycol].to_numpy(float), return_inverse=True)
    if len(table) != xs.size * ys.size:
        raise ValueError(f"{xcol}/{ycol}: {len(table)} rows is not a {xs.size}x{ys.size} grid")
    z = np.full((xs.size, ys.size), np.nan)
    # Indexing by position (not row order) tolerates any sort order of the table.
    z[xi, yi] = table[zcol].to_numpy(float)
    return xs, ys, z


def colour_scale(z: np.ndarray, centred: bool = False):
    """Return (lo, hi, clipped) from finite values, robust to outliers and constants."""
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        return 0.0, 1.0, False
    lo, hi = float(finite.min()), float(finite.max())
    with np.errstate(over="ignore", invalid="ignore"):
        p99 = float(np.percentile(finite, 99))
        # A max far beyond the bulk (overflow, saturation) would flatten the map.
        clipped = bool(hi > p99 + 4 * (p99 - lo)) and p99 > lo
        if clipped:
            hi = p99
        if centred:  # diverging maps must put white at zero
            lo, hi = -max(abs(lo), abs(hi)), max(abs(lo), abs(hi))
        if hi <= lo:
            pad = abs(lo) * 0.05 if lo != 0 else 0.5
            lo, hi = lo - pad, min(hi + pad, np.finfo(float).max)
    return lo, hi, clipped


def scale_label(label: str, hi: float, clipped: bool) -> str:
    return f"{label}\n(colour scale clipped at {hi:.3g})" if clipped else label


def masked(z: np.ndarray, hi: float) -> np.ma.MaskedArray:
    # Clip so huge finite values cannot overflow colour mapping or 3-D limits.
    return np.ma.minimum(np.ma.masked_invalid(z), hi)


def with_bad_colour(name: str):
    return colormaps[name].with_extremes(bad=BAD_COLOUR)


def bad_patch(z: np.ndarray) -> list[Patch]:
    n_bad = int((~np.isfinite(z)).sum())
    return [Patch(color=BAD_COLOUR, label=f"non-finite loss ({n_bad} cells)")] if n_bad else []


def add_3d(fig: Figure, *args):
    # Without computed_zorder=False, markers are hidden behind the surface.
    return fig.add_subplot(*args, projection="3d", computed_zorder=False)


def surface_3d(ax, x, y, z, *, cmap, lo, hi, zlabel, xlabel, ylabel, clipped=False):
    X, Y = np.meshgrid(x, y, indexing="ij")
    zm = masked(z, hi)
    if zm.count():
        ax.plot_surface(X, Y, zm, cmap=cmap, norm=Normalize(lo, hi), linewidth=0,
                        antialiased=False, alpha=0.95, zorder=1)
    ax.set_zlim(lo, hi)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.set_zlabel(zlabel, labelpad=7)  # default pad collides with the z tick labels
    ax.set_title("3-D surface" + (f" (z clipped at {hi:.3g})" if clipped else ""), fontsize=10)


def filled_contour(ax, x, y, z, *, cmap, label, lines: bool, centred: bool = False):
    """Filled contour of z with colorbar; non-finite holes show the axes' bad colour."""
    lo, hi, clipped = colour_scale(z, centred)
    X, Y = np.meshgrid(x, y, indexing="ij")
    zm = masked(z, hi)
    ax.set_facecolor(BAD_COLOUR)
    levels = MaxNLocator(nbins=20).tick_values(lo, hi)
    extend = "max" if clipped else "neither"
    if zm.count() > 1:
        mappable = ax.contourf(X, Y, zm, levels=levels, cmap=cmap, extend=extend)
        # contour() warns unless a level lies strictly inside the data range.
        inner = [v for v in levels[::4] if float(zm.min()) < v < float(zm.max())]
        if lines and inner:
            ax.contour(X, Y, zm, levels=inner, colors="k", linewidths=0.5, alpha=0.6)
    else:
        mappable = ScalarMappable(Normalize(lo, hi), cmap)
        ax.text(0.5, 0.5, "no finite values", transform=ax.transAxes, ha="center")
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(y.min(), y.max())
    cbar = ax.figure.colorbar(mappable, ax=ax, extend=extend)
    cbar.set_label(scale_label(label, hi, clipped))
    return lo, hi, clipped


def label_axes(ax, xlabel: str, ylabel: str, title: str = "") -> None:
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.set_title(title, fontsize=10)


def legend_below(ax, handles, ncols: int = 1) -> None:
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=8,
              ncols=ncols, frameon=False)


def scatter_data(ax, data: pd.DataFrame, axes=("x0", "x1"), **kw):
    style = dict(s=10, c="white", edgecolors="black", linewidths=0.5, label="training data")
    return ax.scatter(data[axes[0]], data[axes[1]], zorder=3, **(style | kw))


def save_figure(fig: Figure, path, provenance: dict | None = None) -> None:
    """Write a byte-reproducible PNG (fixed dpi, no software/version metadata), with
    `provenance` (what it maps, of which network, from which config; in a pipeline job also
    the code's commit and its inputs' sha256) in its text chunks, as JSON: PIL's
    Image.open(path).text shows them."""
    import json

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    provenance = dict(provenance or {})
    if JOB_PROVENANCE.get():  # a pipeline job's: the code's commit, its inputs' sha256
        provenance = {**provenance, "provenance": JOB_PROVENANCE.get()}
    text = {key: json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
            for key, value in sorted(provenance.items())}
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None, **text})


def samples_description(metadata: dict) -> str:
    samples = metadata.get("samples", [])
    n = metadata.get("n_samples", len(samples))
    if len(samples) == 1:
        return f"one data point (row {samples[0]})"
    if samples == list(range(n)):
        return f"all {n} data points"
    return f"{n} data points"


def loss_of(metadata: dict) -> str:
    """The loss's name in a table's metadata (tables from before classifiers: MSE)."""
    return metadata.get("network", {}).get("loss", "MSE")
