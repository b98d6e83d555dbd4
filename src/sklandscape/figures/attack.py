"""The input-space attack figure, drawn from the input-attack analysis' tables: the fig. 4
error map with the gradient as arrows, the k worst data points, the ascent paths, and how
much the ascent raised each point's error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sklandscape.figures.drawing import (
    colour_scale,
    grid_of,
    legend_below,
    masked,
    new_figure,
    scale_label,
    with_bad_colour,
)


def attack_figure(landscape: pd.DataFrame, field: pd.DataFrame, worst: pd.DataFrame,
                  found: pd.DataFrame, paths: pd.DataFrame, *, shown_paths: np.ndarray,
                  title: str, radius: float, labels: tuple[str, str] = ("x0", "x1"),
                  loss_name: str = "MSE") -> Figure:
    """Left: error map + unit gradient arrows + worst points + ascent paths. Right: before/after."""
    x0, x1, loss = grid_of(landscape, "x0", "x1", "loss")
    lo, hi, clipped = colour_scale(loss)
    fig = new_figure(title, (15, 7))
    grid = fig.add_gridspec(1, 2, width_ratios=[1.35, 1])
    ax, side = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    mesh = ax.pcolormesh(x0, x1, masked(loss, hi).T, cmap=with_bad_colour("magma"), norm=Normalize(lo, hi),
                         shading="nearest", rasterized=True)
    cbar = fig.colorbar(mesh, ax=ax, extend="max" if clipped else "neither", pad=0.01)
    error = ("log-loss of the target class" if loss_name == "log-loss"
             else "squared error (prediction \u2212 target)\u00b2")
    cbar.set_label(scale_label(error, hi, clipped))
    handles = [_arrows(ax, field)]
    handles += _ascent_paths(ax, paths, shown_paths, radius)
    handles += _worst_points(ax, worst)
    ax.set(xlabel=labels[0], ylabel=labels[1], xlim=(x0.min(), x0.max()), ylim=(x1.min(), x1.max()))
    if not worst.empty:
        _zoom(ax, (x0, x1, masked(loss, hi), mesh.norm, mesh.get_cmap()), worst, paths,
              shown_paths, radius)
    ax.set_title("error over the input plane, its gradient, the worst data points and "
                 "ascent paths", fontsize=10)
    legend_below(ax, handles, ncols=2)
    _before_after(side, found, loss_name)
    return fig


def _zoom(ax, image: tuple, worst: pd.DataFrame, paths, shown, radius: float) -> None:
    """An inset on the worst points, which crowd into one spot at full scale."""
    pad = 2 * radius
    box = (worst["x0"].min() - pad, worst["x0"].max() + pad,
           worst["x1"].min() - pad, worst["x1"].max() + pad)
    (xlo, xhi), (ylo, yhi) = ax.get_xlim(), ax.get_ylim()
    if (box[1] - box[0]) > 0.4 * (xhi - xlo) or (box[3] - box[2]) > 0.4 * (yhi - ylo):
        return  # spread out already: nothing to zoom into
    # The inset goes in the upper corner away from the worst points.
    right = (box[0] + box[1]) / 2 < (xlo + xhi) / 2
    inset = ax.inset_axes([0.58 if right else 0.02, 0.58, 0.4, 0.4])
    x0, x1, z, norm, cmap = image
    inset.pcolormesh(x0, x1, z.T, cmap=cmap, norm=norm, shading="nearest", rasterized=True)
    _ascent_paths(inset, paths, shown, radius)
    _worst_points(inset, worst)
    inset.set(xlim=box[:2], ylim=box[2:])
    inset.tick_params(labelsize=7, colors="white")
    inset.set_title("zoom on the worst points", fontsize=8, color="white", pad=2)
    ax.indicate_inset_zoom(inset, edgecolor="white")


def _arrows(ax, field: pd.DataFrame):
    """Unit arrows along the error's input gradient; their colour gives its size (log)."""
    gx, gy = field["grad_x0"].to_numpy(float), field["grad_x1"].to_numpy(float)
    size = np.hypot(gx, gy)
    ok = np.isfinite(size) & (size > 0)
    norm = LogNorm(*_log_limits(size[ok]))
    ax.quiver(field["x0"][ok], field["x1"][ok], gx[ok] / size[ok], gy[ok] / size[ok], size[ok],
              cmap="cool", norm=norm, angles="xy", pivot="middle", scale=45, width=0.002,
              headwidth=4, zorder=3)
    return Line2D([], [], marker=r"$\rightarrow$", ms=12, color="violet", ls="none",
                  label=f"direction of steepest error increase (colour: |gradient| "
                        f"{norm.vmin:.1g} cyan to {norm.vmax:.1g} magenta)")


def _log_limits(values: np.ndarray) -> tuple[float, float]:
    if values.size == 0:
        return 1e-3, 1.0
    hi = float(values.max())
    return max(float(values.min()), hi * 1e-4), hi


def _ascent_paths(ax, paths: pd.DataFrame, shown: np.ndarray, radius: float) -> list:
    if len(shown) == 0:
        return []
    chosen = paths[paths["row"].isin(shown)]
    for _, path in chosen.groupby("row", sort=False):
        ax.plot(path["x0"], path["x1"], "-", color="lime", lw=1.3, zorder=4)
        ax.plot(path["x0"].iloc[-1:], path["x1"].iloc[-1:], "^", ms=6, color="lime",
                mec="black", mew=0.5, zorder=5)
    return [Line2D([], [], color="lime", marker="^", mec="black", lw=1.3,
                   label=f"gradient ascent: the {len(shown)} data points it helped most, "
                         f"spaced apart (radius {radius:g})")]


def _worst_points(ax, worst: pd.DataFrame) -> list:
    if worst.empty:
        return []
    ax.scatter(worst["x0"], worst["x1"], s=60, facecolors="none", edgecolors="cyan", lw=1.6,
               zorder=6)
    for row in worst.itertuples():
        ax.annotate(str(row.rank), (row.x0, row.x1), xytext=(4, 4), textcoords="offset points",
                    color="cyan", fontsize=8, weight="bold", zorder=7)
    return [Line2D([], [], marker="o", mfc="none", mec="cyan", ls="none", mew=1.6,
                   label=f"the {len(worst)} worst data points, ranked "
                         f"(error {worst['error'].min():.2g} to {worst['error'].max():.2g})")]


def _before_after(ax, found: pd.DataFrame, loss_name: str) -> None:
    before = found["error_start"].to_numpy(float)
    after = found["error"].to_numpy(float)
    both = np.r_[before, after]
    positive = both[np.isfinite(both) & (both > 0)]
    # The few near-perfect points would stretch the axes over many empty decades.
    floor = float(np.percentile(positive, 1)) if positive.size else 1e-12
    b, a = np.maximum(before, floor), np.maximum(after, floor)
    ax.scatter(b, a, s=6, c="C0", alpha=0.6, label="one data point (clipped below at the "
                                                     "1st percentile)")
    limits = (floor / 1.5, max(float(np.nanmax(a)), float(np.nanmax(b))) * 1.5)
    ax.plot(limits, limits, "--", color="0.4", lw=1, label="no change")
    ax.set(xscale="log", yscale="log", xlim=limits, ylim=limits,
           xlabel=f"{_error_word(loss_name)} at the data point",
           ylabel=f"highest {_error_word(loss_name)} the ascent found")
    ratio = float(np.mean(after) / np.mean(before)) if np.mean(before) > 0 else float("nan")
    ax.set_title(f"what a short ascent finds near each data point\nmean error {np.mean(before):.3g}"
                 f" \u2192 {np.mean(after):.3g} ({ratio:.1f}x); highest {np.max(before):.3g} "
                 f"\u2192 {np.max(after):.3g}", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)


def _error_word(loss_name: str) -> str:
    return "log-loss" if loss_name == "log-loss" else "squared error"
