"""Curvature figures, drawn from the curvature analysis' tables; nothing is evaluated here.

- the Hessian's eigenvalues (log |value|, coloured by sign) and eigenvectors by weight name;
- the convexity map of a slice, min / |max| eigenvalue of the slice's 2x2 Hessian;
- the plateau map of a slice, the gradient norm against the configured threshold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import LogNorm, Normalize, SymLogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sklandscape.figures.drawing import add_3d, grid_of, legend_below, new_figure

POSITIVE, NEGATIVE = "#2166ac", "#b2182b"
RATIO_LINEAR = 1e-6  # the convexity colour scale is linear within +-this, logarithmic beyond
MAX_VECTOR_PANEL = 30  # above this many weights the eigenvector matrix is unreadable


def hessian_figure(table: pd.DataFrame, *, tolerance: float, title: str,
                   note: str = "") -> Figure:
    """Eigenvalue bars (|value| on a log scale, colour = sign) and the eigenvector matrix."""
    names = [c for c in table.columns if c not in ("rank", "eigenvalue", "which")]
    values = table["eigenvalue"].to_numpy(float)
    with_vectors = len(names) <= MAX_VECTOR_PANEL
    fig = new_figure(title, (13, 5.2) if with_vectors else (8, 5))
    ax = fig.add_subplot(1, 2 if with_vectors else 1, 1)
    magnitude = np.maximum(np.abs(values), np.finfo(float).tiny)
    colours = [POSITIVE if v > tolerance else NEGATIVE if v < -tolerance else "0.6"
               for v in values]
    ax.bar(np.arange(len(values)), magnitude, color=colours, edgecolor="black", lw=0.5)
    ax.set_yscale("log")
    ax.axhline(tolerance, color="0.3", ls="--", lw=1)
    if len(values) <= MAX_VECTOR_PANEL:
        for k, v in enumerate(values):
            ax.annotate(f"{v:.3g}", (k, magnitude[k]), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=8)
    partial = "which" in table.columns and (table["which"] != "all").any()
    if len(values) <= MAX_VECTOR_PANEL:
        ax.set_xticks(np.arange(len(values)), table["rank"].tolist() if partial else None)
    else:
        ax.set_xticks([])
    ax.set(xlabel="eigenvalue rank of all (ascending): the smallest and the largest found"
           if partial else "eigenvalue index (ascending)", ylabel="|eigenvalue| (log scale)")
    ax.set_title("Hessian eigenvalues", fontsize=10)
    ax.margins(y=0.15)
    handles = [Patch(color=POSITIVE, label="positive"), Patch(color=NEGATIVE, label="negative"),
               Patch(color="0.6", label="zero within tolerance"),
               Line2D([], [], color="0.3", ls="--", label=f"tolerance {tolerance:.2g}")]
    legend_below(ax, handles, ncols=2)
    if note:
        ax.text(0.02, 0.98, note, transform=ax.transAxes, va="top", fontsize=9,
                bbox=dict(boxstyle="round", fc="white", ec="0.6"))
    if with_vectors:
        _eigenvector_panel(fig.add_subplot(1, 2, 2), table[names].to_numpy(float), names, values)
    return fig


def _eigenvector_panel(ax, vectors: np.ndarray, names: list[str], values: np.ndarray) -> None:
    image = ax.imshow(vectors, cmap="RdBu_r", norm=Normalize(-1, 1), aspect="auto")
    for (i, j), v in np.ndenumerate(vectors):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8,
                color="white" if abs(v) > 0.6 else "black")
    ax.set_xticks(np.arange(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(np.arange(len(values)), [f"{k}: {v:.2g}" for k, v in enumerate(values)])
    ax.set(xlabel="weight", ylabel="eigenvalue (index: value)")
    ax.set_title("eigenvectors: each row's components by weight", fontsize=10)
    ax.figure.colorbar(image, ax=ax, label="component")


def _mark_points(ax, axes: tuple[str, str], centre: dict, minimum: dict | None,
                 loss_name: str) -> None:
    ax.plot(centre[axes[0]], centre[axes[1]], "X", ms=11, color="red", mec="white", ls="none",
            zorder=5, label="trained weights")
    if minimum:
        ax.plot(minimum[axes[0]], minimum[axes[1]], "*", ms=15, color="white", mec="black",
                ls="none", zorder=5, label=f"slice minimum ({loss_name} {minimum['loss']:.2g})")


def _loss_lines(ax, x, y, loss, loss_name: str) -> Line2D | None:
    """Thin MSE contour lines on a log scale, for orientation on a derived map."""
    finite = loss[np.isfinite(loss) & (loss > 0)]
    if finite.size < 2 or finite.min() == finite.max():
        return None
    levels = np.geomspace(finite.min(), finite.max(), 9)[1:-1]
    X, Y = np.meshgrid(x, y, indexing="ij")
    ax.contour(X, Y, np.ma.masked_invalid(loss), levels=levels, colors="0.25", linewidths=0.6,
               alpha=0.7)
    return Line2D([], [], color="0.25", lw=0.6, label=f"{loss_name} contours (log-spaced)")


def _finish_map(ax, x, y, loss, axes, centre, minimum, handles, title: str, note: str,
                loss_name: str) -> None:
    """What both slice maps add on top of their colours: MSE contours, the trained point and
    the slice minimum, the legend below, axis labels, the panel title and the note box."""
    line = _loss_lines(ax, x, y, loss, loss_name)
    _mark_points(ax, axes, centre, minimum, loss_name)
    handles = ax.get_legend_handles_labels()[0] + handles + ([line] if line else [])
    legend_below(ax, handles, ncols=2)
    ax.set(xlabel=f"{axes[0]} (weight value)", ylabel=f"{axes[1]} (weight value)")
    ax.set_title(title, fontsize=10)
    if note:
        ax.text(0.02, 0.98, note, transform=ax.transAxes, va="top", fontsize=9,
                bbox=dict(boxstyle="round", fc="white", ec="0.6", alpha=0.9))


def convexity_figure(table: pd.DataFrame, *, axes: tuple[str, str], centre: dict,
                     minimum: dict | None, title: str, note: str = "",
                     loss_name: str = "MSE") -> Figure:
    """Map of min / |max| eigenvalue of the slice's 2x2 Hessian; the convex region outlined."""
    x, y, ratio = grid_of(table, axes[0], axes[1], "convexity")
    _, _, loss = grid_of(table, axes[0], axes[1], "loss")
    fig = new_figure(title, (9.5, 6.5))
    ax = fig.add_subplot()
    ax.set_facecolor("0.55")
    clipped = np.ma.masked_invalid(np.clip(ratio, -1, 1))
    # Symmetric log colours: in a narrow valley the ratio of a convex point can be 1e-5,
    # which a linear scale would paint the same white as a flat one.
    colour_norm = SymLogNorm(linthresh=RATIO_LINEAR, vmin=-1, vmax=1, base=10)
    mesh = ax.pcolormesh(x, y, clipped.T, cmap="RdBu_r", norm=colour_norm, shading="nearest")
    cbar = fig.colorbar(mesh, ax=ax, extend="min")
    cbar.set_label("min eigenvalue / |max eigenvalue| of the 2x2 Hessian (symmetric log)\n"
                   "> 0 (red): convex here;  < 0 (blue): curves down in some direction")
    handles = []
    if np.nanmin(ratio) < 0 < np.nanmax(ratio):
        X, Y = np.meshgrid(x, y, indexing="ij")
        ax.contour(X, Y, np.ma.masked_invalid(ratio), levels=[0], colors="black", linewidths=1.6)
        handles.append(Line2D([], [], color="black", lw=1.6, label="edge of the convex region"))
    _finish_map(ax, x, y, loss, axes, centre, minimum, handles,
                "local convexity of the slice (Li et al. 2018 ratio)", note, loss_name)
    return fig


def plateau_figure(table: pd.DataFrame, *, axes: tuple[str, str], centre: dict,
                   minimum: dict | None, threshold: float, title: str, note: str = "",
                   loss_name: str = "MSE") -> Figure:
    """Gradient norm on the slice (log colour), the plateau (norm < threshold) outlined."""
    x, y, norm = grid_of(table, axes[0], axes[1], "grad_norm")
    _, _, loss = grid_of(table, axes[0], axes[1], "loss")
    fig = new_figure(title, (14, 6))
    ax = fig.add_subplot(1, 2, 1)
    ax3 = add_3d(fig, 1, 2, 2)
    positive = norm[np.isfinite(norm) & (norm > 0)]
    lo = float(min(positive.min(), threshold)) if positive.size else threshold / 10
    hi = float(max(positive.max(), threshold * 10)) if positive.size else threshold * 10
    colour_norm = LogNorm(lo, hi)
    cmap = colormaps["cividis"].with_extremes(bad="0.55")
    shown = np.ma.masked_invalid(np.clip(norm, lo, hi))
    mesh = ax.pcolormesh(x, y, shown.T, cmap=cmap, norm=colour_norm, shading="nearest")
    fig.colorbar(mesh, ax=ax, label=f"|gradient of the {loss_name} on the slice| (log scale)")
    below = np.isfinite(norm) & (norm < threshold)
    handles = []
    if below.any():
        X, Y = np.meshgrid(x, y, indexing="ij")
        ax.contourf(X, Y, below.astype(float), levels=[0.5, 1.5], colors="none", hatches=["///"])
        ax.contour(X, Y, below.astype(float), levels=[0.5], colors="magenta", linewidths=1.4)
    handles.append(Patch(fc="none", ec="magenta", hatch="///",
                         label=f"plateau: |gradient| < {threshold:g} "
                               f"({np.mean(below[np.isfinite(norm)]):.2%} of the grid)"))
    _finish_map(ax, x, y, loss, axes, centre, minimum, handles,
                "gradient norm, plateau outlined", note, loss_name)
    X, Y = np.meshgrid(x, y, indexing="ij")
    faces = cmap(colour_norm(np.clip(np.nan_to_num(norm, nan=hi), lo, hi)))
    # At most 60 x 60 facets: the panel is ~600 pixels wide, and every facet of a 101 x 101
    # grid was a polygon to project, sort and fill (most of this figure's drawing time).
    ax3.plot_surface(X, Y, np.ma.masked_invalid(loss), facecolors=faces, linewidth=0,
                     antialiased=False, shade=False, rcount=60, ccount=60)
    ax3.set(xlabel=f"{axes[0]}", ylabel=f"{axes[1]}")
    ax3.set_zlabel(f"{loss_name}", labelpad=7)
    ax3.set_title(f"{loss_name} surface, coloured by |gradient| (same scale)", fontsize=10)
    return fig
