"""Optimizer paths on a 2-D slice: contour + paths, 3-D surface + paths, loss gap per step,
and the same paths as an animated GIF (frames composed and written with Pillow).

Drawn from the optimizer analysis' tables and a background loss grid; nothing is evaluated.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from sklandscape.analyses.optimizers import LABELS
from sklandscape.figures.drawing import add_3d, legend_below, new_figure, with_bad_colour

COLOURS = {"gd": "#e41a1c", "momentum": "#377eb8", "nesterov": "#4daf4a", "adam": "#ff7f00"}
GIF_DPI = 80
GIF_FRAMES = 30
GIF_FPS = 6


def _log_range(z: np.ndarray, floor: float) -> tuple[float, float]:
    finite = z[np.isfinite(z)]
    lo = max(float(finite.min()), floor) if finite.size else floor
    hi = max(float(finite.max()), lo * 10) if finite.size else lo * 10
    return lo, hi


def _background(ax, grid, floor: float, loss_name: str):
    """The landscape's MSE grid (x, y, z) on a log colour scale, with log-spaced contours."""
    x, y, z = grid
    lo, hi = _log_range(z, floor)
    shown = np.ma.masked_invalid(np.clip(z, lo, hi))
    ax.set_facecolor("0.55")
    mesh = ax.pcolormesh(x, y, shown.T, cmap=with_bad_colour("viridis"), norm=LogNorm(lo, hi),
                         shading="nearest", rasterized=True)
    if shown.count() > 1 and hi > lo:
        X, Y = np.meshgrid(x, y, indexing="ij")
        ax.contour(X, Y, shown, levels=np.geomspace(lo, hi, 12)[1:-1], colors="white",
                   linewidths=0.4, alpha=0.5)
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(y.min(), y.max())
    ax.figure.colorbar(mesh, ax=ax, label=f"{loss_name} (log scale, floor {lo:.2g})")
    return lo, hi


def _method_handles(summary: dict) -> list:
    return [Line2D([], [], color=COLOURS.get(m, "k"), lw=2,
                   label=f"{LABELS.get(m, m)}, lr {info['learning_rate']:.2g}: "
                         f"{_steps_text(info['steps'])}")
            for m, info in summary.items()]


def _steps_text(steps: float) -> str:
    return "not within epsilon" if not np.isfinite(steps) else f"{steps:.0f} steps to epsilon"


def _draw_paths(ax, paths: pd.DataFrame, upto: int | None = None) -> None:
    for (method, _start), path in paths.groupby(["method", "start"], sort=False):
        part = path if upto is None else path[path["step"] <= upto]
        ax.plot(part["u0"], part["u1"], "-", color=COLOURS.get(method, "k"), lw=1.4,
                alpha=0.9, zorder=3)
        ax.plot(part["u0"].iloc[-1:], part["u1"].iloc[-1:], "o", ms=4,
                color=COLOURS.get(method, "k"), mec="black", mew=0.5, zorder=4)


def _draw_starts_and_minimum(ax, starts: np.ndarray, minimum: dict, axes, loss_name: str) -> list:
    ax.plot(starts[:, 0], starts[:, 1], "s", ms=8, color="white", mec="black", ls="none",
            zorder=5)
    for k, (a, b) in enumerate(starts):
        ax.annotate(f"S{k}", (a, b), xytext=(5, 5), textcoords="offset points", fontsize=9,
                    color="white", weight="bold", zorder=6)
    ax.plot(minimum[axes[0]], minimum[axes[1]], "*", ms=15, color="white", mec="black",
            ls="none", zorder=6)
    return [Line2D([], [], marker="s", color="white", mec="black", ls="none",
                   label="starting points S0, S1, ..."),
            Line2D([], [], marker="*", ms=12, color="white", mec="black", ls="none",
                   label=f"slice minimum, {loss_name} {minimum['loss']:.2g}")]


def optimizer_paths_figure(paths: pd.DataFrame, *, background, starts: np.ndarray,
                           minimum: dict, axes: tuple[str, str], summary: dict, epsilon: float,
                           title: str, verdict: str, loss_name: str = "MSE") -> Figure:
    """Paths on the contour map, on the 3-D surface, and the loss gap step by step."""
    fig = new_figure(title, (18, 6.2))
    ax = fig.add_subplot(1, 3, 1)
    ax3 = add_3d(fig, 1, 3, 2)
    axg = fig.add_subplot(1, 3, 3)
    floor = max(epsilon / 100, 1e-12)
    lo, hi = _background(ax, background, floor, loss_name)
    _draw_paths(ax, paths)
    handles = _method_handles(summary) + _draw_starts_and_minimum(ax, starts, minimum, axes,
                                                                  loss_name)
    ax.set(xlabel=f"{axes[0]} (weight value)", ylabel=f"{axes[1]} (weight value)")
    ax.set_title(f"paths on the {loss_name} contour map", fontsize=10)
    legend_below(ax, handles, ncols=1)
    _surface_with_paths(ax3, background, paths, lo, hi, axes, loss_name)
    _gap_panel(axg, paths, minimum["loss"], epsilon, summary, loss_name)
    axg.text(0.5, -0.16, textwrap.fill(verdict, 75), transform=axg.transAxes, ha="center",
             va="top", fontsize=9, bbox=dict(boxstyle="round", fc="lightyellow", ec="0.5"))
    return fig


def _surface_with_paths(ax3, background, paths, lo, hi, axes, loss_name: str) -> None:
    x, y, z = background
    X, Y = np.meshgrid(x, y, indexing="ij")
    # log10 height, so the valley floor and the shelves are both visible
    height = np.log10(np.clip(z, lo, hi))
    ax3.plot_surface(X, Y, np.ma.masked_invalid(height), cmap=with_bad_colour("viridis"), linewidth=0,
                     antialiased=False, alpha=0.75, rstride=2, cstride=2, zorder=1)
    for (method, _), path in paths.groupby(["method", "start"], sort=False):
        inside = ((path["u0"] >= x.min()) & (path["u0"] <= x.max())
                  & (path["u1"] >= y.min()) & (path["u1"] <= y.max()))
        part = path[inside]
        ax3.plot(part["u0"], part["u1"], np.log10(np.clip(part["loss"], lo, hi)),
                 color=COLOURS.get(method, "k"), lw=1.5, zorder=3)
    ax3.set(xlabel=axes[0], ylabel=axes[1])
    ax3.set_zlabel(f"log10 {loss_name}", labelpad=7)
    ax3.set_title(f"3-D surface (log10 {loss_name}) with the paths", fontsize=10)


def _gap_panel(ax, paths, minimum: float, epsilon: float, summary: dict, loss_name: str) -> None:
    floor = epsilon / 1e3
    for (method, _), path in paths.groupby(["method", "start"], sort=False):
        gap = np.maximum(path["loss"].to_numpy() - minimum, floor)
        ax.plot(path["step"], gap, color=COLOURS.get(method, "k"), lw=1, alpha=0.8)
    for method, info in summary.items():
        if np.isfinite(info["steps"]):
            ax.axvline(info["steps"], color=COLOURS.get(method, "k"), ls=":", lw=1.2)
    ax.axhline(epsilon, color="black", ls="--", lw=1)
    ax.set_yscale("log")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(0, max(int(paths["step"].max()), 1))
    ax.set(xlabel="step (linear to 10, then log)", ylabel=f"{loss_name} \u2212 slice minimum (log)")
    ax.set_title(f"loss gap per step, every start\ndashed: epsilon = {epsilon:g}; dotted: steps "
                 "to epsilon of the slowest start", fontsize=9)


def optimizer_animation(paths: pd.DataFrame, out_path, *, background, starts,
                        minimum: dict, axes: tuple[str, str], summary: dict, epsilon: float,
                        title: str, frames: int = GIF_FRAMES, loss_name: str = "MSE") -> None:
    """An animated GIF: the paths growing step by step (log-spaced frames) on the contour map.

    The static picture (map, colour bar, legend, labels) is rendered once; each frame draws
    only the paths and the step counter on a transparent figure of the same size, laid
    over a copy of that picture: a few lines per frame rather than a full redraw.
    """
    last = int(paths["step"].max())
    schedule = np.unique(np.r_[0, np.round(np.geomspace(1, max(last, 1), frames - 1))]).astype(int)
    static, ax = _static_frame(background, starts, minimum, axes, summary, epsilon, title, loss_name)
    picture = Image.fromarray(_render(static))
    fig = Figure(figsize=static.get_size_inches(), dpi=GIF_DPI)
    fig.patch.set_alpha(0.0)
    overlay = fig.add_axes(ax.get_position(), xlim=ax.get_xlim(), ylim=ax.get_ylim())
    overlay.axis("off")
    groups = [(m, g) for (m, _), g in paths.groupby(["method", "start"], sort=False)]
    lines = [overlay.plot([], [], "-", color=COLOURS.get(m, "k"), lw=1.6)[0] for m, _ in groups]
    heads = [overlay.plot([], [], "o", ms=6, color=COLOURS.get(m, "k"), mec="black")[0]
             for m, _ in groups]
    counter = overlay.set_title("", fontsize=11)
    images = []
    for t in schedule:
        for line, head, (_, group) in zip(lines, heads, groups):
            part = group[group["step"] <= t]
            line.set_data(part["u0"], part["u1"])
            head.set_data(part["u0"].iloc[-1:], part["u1"].iloc[-1:])
        counter.set_text(f"step {t} of {last}")
        paths_only = Image.fromarray(_render(fig))
        images.append(Image.alpha_composite(picture, paths_only).convert("RGB"))
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    images[0].save(out_path, format="GIF", save_all=True, append_images=images[1:],
                   duration=round(1000 / GIF_FPS), loop=0)


def _static_frame(background, starts, minimum, axes, summary, epsilon, title, loss_name):
    """Everything of a GIF frame but the paths and the step counter, laid out for GIF_DPI."""
    fig = new_figure(title, (8, 7))
    fig.set_dpi(GIF_DPI)
    ax = fig.add_subplot()
    _background(ax, background, max(epsilon / 100, 1e-12), loss_name)
    handles = _draw_starts_and_minimum(ax, starts, minimum, axes, loss_name)
    ax.set(xlabel=f"{axes[0]} (weight value)", ylabel=f"{axes[1]} (weight value)")
    ax.set_title(" ", fontsize=11)  # room for the overlay's step counter
    legend_below(ax, _method_handles(summary) + handles, ncols=2)
    return fig, ax


def _render(fig: Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()
