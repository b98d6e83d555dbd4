"""Figures of mode connectivity: the barrier matrices, the loss along one pair's paths, and
the plane through a pair's two ends and the curve's control point. Drawing only: every number
comes from the tables (sklandscape.api.connectivity)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sklandscape.analyses.connectivity import PATH_NAMES, PATHS
from sklandscape.figures.directions import loss_colorbar, loss_contour, loss_scale
from sklandscape.figures.drawing import new_figure

STYLE = {"linear": dict(color="tab:red", ls="--"), "aligned": dict(color="tab:orange", ls="-"),
         "curve": dict(color="tab:blue", ls="-")}


def barrier_matrix(pairs: pd.DataFrame, names: list[str], column: str) -> np.ndarray:
    """The symmetric names × names matrix of `column` (0 on the diagonal: a network is its own
    path)."""
    index = {name: k for k, name in enumerate(names)}
    matrix = np.zeros((len(names), len(names)))
    for row in pairs.itertuples():
        i, j = index[row.first], index[row.second]
        matrix[i, j] = matrix[j, i] = getattr(row, column)
    return matrix


def barriers_figure(pairs: pd.DataFrame, names: list[str], *, title: str,
                    heldout: bool = False, loss_name: str = "MSE") -> Figure:
    """One heatmap per path (before alignment, after, trained curve) on one colour scale, with
    each barrier written in its cell; a second row on the held-out rows."""
    rows = ("", "_heldout") if heldout else ("",)
    n = len(names)
    side = 1.2 + 0.55 * n
    fig = new_figure(title, (3.2 * side, side * len(rows) + 1.4))
    axes = fig.subplots(len(rows), len(PATHS), squeeze=False)
    matrices = {(suffix, path): barrier_matrix(pairs, names, f"barrier_{path}{suffix}")
                for suffix in rows for path in PATHS}
    finite = np.concatenate([m[np.isfinite(m)] for m in matrices.values()] + [np.zeros(1)])
    top = float(finite.max()) or 1.0
    for r, suffix in enumerate(rows):
        for c, path in enumerate(PATHS):
            ax, matrix = axes[r, c], matrices[suffix, path]
            image = ax.imshow(matrix, vmin=0.0, vmax=top, cmap="magma_r")
            for i in range(n):
                for j in range(n):
                    value = matrix[i, j]
                    # two digits fit a cell; the exact values are in the pairs table
                    text = "" if i == j else ("n/a" if not np.isfinite(value) else f"{value:.2g}")
                    ax.text(j, i, text, ha="center", va="center", fontsize=7,
                            color="white" if value > 0.6 * top else "black")
            ax.set_xticks(range(n), names, rotation=45, ha="right", fontsize=7)
            # names label the first column only: long ones would run into the panel beside
            ax.set_yticks(range(n), names if c == 0 else [], fontsize=7)
            rows_name = "held-out rows" if suffix else "training rows"
            ax.set_title(f"{PATH_NAMES[path]}\n{rows_name}", fontsize=8)
    fig.colorbar(image, ax=axes, shrink=0.8,
                 label=f"barrier: max over the path of {loss_name} above the ends' line")
    return fig


def path_figure(paths: pd.DataFrame, pair: pd.Series, *, title: str,
                loss_name: str = "MSE") -> Figure:
    """The loss along each path of one pair (and the held-out loss, dashed thin), with each
    barrier in the legend; a classifier also gets its accuracy."""
    accuracy = "accuracy" in paths.columns
    fig = new_figure(title, (11 if accuracy else 7.5, 4.8))
    axes = fig.subplots(1, 2 if accuracy else 1, squeeze=False)[0]
    for path in PATHS:
        rows = paths[paths["path"] == path]
        label = f"{PATH_NAMES[path]}: barrier {pair[f'barrier_{path}']:.3g}"
        axes[0].plot(rows["t"], rows["loss"], label=label, **STYLE[path])
        if "loss_heldout" in rows.columns:
            axes[0].plot(rows["t"], rows["loss_heldout"], lw=0.9, alpha=0.8,
                         label=f"held out: barrier {pair[f'barrier_{path}_heldout']:.3g}",
                         color=STYLE[path]["color"], ls=":")
        if accuracy:
            axes[1].plot(rows["t"], rows["accuracy"], label=PATH_NAMES[path], **STYLE[path])
            if "accuracy_heldout" in rows.columns:
                axes[1].plot(rows["t"], rows["accuracy_heldout"], lw=0.9, ls=":",
                             color=STYLE[path]["color"], label="held out")
    axes[0].set(xlabel=f"t (0: {pair['first']}, 1: {pair['second']})", ylabel=loss_name)
    axes[0].legend(fontsize=7, loc="best")
    if accuracy:
        axes[1].set(xlabel=axes[0].get_xlabel(), ylabel="accuracy", ylim=(-0.02, 1.02))
        axes[1].legend(fontsize=7, loc="best")
    return fig


def plane_figure(plane: pd.DataFrame, paths: pd.DataFrame, landmarks: pd.DataFrame,
                 pairs: pd.DataFrame, *, title: str, loss_name: str = "MSE") -> Figure:
    """One contour panel per pair, all on one colour scale: the plane through the first
    network (0, 0), the aligned second on the x axis and the control point; the trained curve
    and the aligned line lie in it, the unaligned line is drawn as its projection."""
    n = len(pairs)
    columns = min(3, n)
    lines = math.ceil(n / columns)
    fig = new_figure(title, (5.2 * columns + 1.2, 4.6 * lines + 1.2))
    axes = fig.subplots(lines, columns, squeeze=False)
    norm, levels, label = loss_scale(plane["loss"], loss_name)
    for k, pair in enumerate(pairs.itertuples()):
        ax = axes.flat[k]
        mine = (plane["first"] == pair.first) & (plane["second"] == pair.second)
        cells = plane[mine]
        xs, ys = np.unique(cells["x"]), np.unique(cells["y"])
        z = cells["loss"].to_numpy().reshape(len(xs), len(ys)).T
        mappable = loss_contour(ax, xs, ys, z, norm, levels)
        marks = landmarks[(landmarks["first"] == pair.first)
                          & (landmarks["second"] == pair.second)].set_index("point")
        ends = marks.loc[["first", "second_aligned"]]
        control = marks.loc["control"]
        t = np.linspace(0.0, 1.0, 101)
        origin, end = np.zeros(2), ends[["x", "y"]].to_numpy()[1]
        curve = ((1 - t)[:, None] ** 2 * origin + (2 * t * (1 - t))[:, None]
                 * control[["x", "y"]].to_numpy(float) + (t**2)[:, None] * end)
        ax.plot(curve[:, 0], curve[:, 1], lw=2, label=PATH_NAMES["curve"], **STYLE["curve"])
        ax.plot([0, end[0]], [0, end[1]], lw=2, label=PATH_NAMES["aligned"], **STYLE["aligned"])
        raw = marks.loc["second"]
        ax.plot([0, raw["x"]], [0, raw["y"]], lw=1.5,
                label=f"{PATH_NAMES['linear']}, projected: {pair.second} as trained lies "
                      f"{raw['off_plane']:.3g} off this plane", **STYLE["linear"])
        ax.plot([0, end[0]], [0, end[1]], "o", color="white", mec="black", ms=7, zorder=6)
        ax.plot([control["x"]], [control["y"]], "s", color="tab:blue", mec="white", ms=7,
                zorder=6, label="control point")
        ax.annotate(pair.first, (0, 0), textcoords="offset points", xytext=(4, -12), fontsize=7)
        # names run long (wine_classifier_seed1): labels on two lines, the end's label
        # above and leftwards, so that neither panels side by side nor the two labels overlap
        ax.annotate(f"{pair.second} aligned", tuple(end), textcoords="offset points",
                    xytext=(0, 7), fontsize=7, ha="right")
        ax.set(xlabel=f"along {pair.second} aligned - {pair.first}\n(weight-space distance)",
               ylabel="along the control point's offset")
        ax.set_title(f"{pair.first} and {pair.second}\nbarriers {pair.barrier_linear:.3g} "
                     f"(linear), {pair.barrier_aligned:.3g} (aligned), "
                     f"{pair.barrier_curve:.3g} (curve)", fontsize=8)
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    loss_colorbar(fig, mappable, norm, label, ax=axes, shrink=0.8)
    return fig
