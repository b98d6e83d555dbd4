"""Figures 2-5 of the loss-landscape article, drawn from tables; nothing is evaluated.

Fig. 1 (the network diagram) is in plots_network, the helpers all figures share in drawing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm, ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sklandscape.figures.drawing import (
    add_3d,
    bad_patch,
    colour_scale,
    filled_contour,
    grid_of,
    label_axes,
    legend_below,
    masked,
    new_figure,
    scale_label,
    scatter_data,
    surface_3d,
    with_bad_colour,
)
from sklandscape.figures.drawing import save_figure as save_figure  # the figure stages' one saver
from sklandscape.figures.network import network_diagram as network_diagram  # fig. 1


def dataset_figure(data: pd.DataFrame, *, title: str,
                   grid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                   axis_names: tuple[str, str] | None = None, target_names=None) -> Figure:
    """Fig. 2: the target surface with the data (2-D input) or the raw data (1-D input);
    class labels as coloured points over the first two features."""
    if "y" not in data.columns:  # several targets y0, y1, …: one panel each
        return _targets_figure(data, title, axis_names or ("x0", "x1"), target_names)
    labels = not pd.api.types.is_numeric_dtype(data["y"])
    if labels or ("x1" in data.columns and grid is None and axis_names):
        return _scatter_figure(data, title, labels, axis_names or ("x0", "x1"))
    if "x1" not in data.columns or grid is None:
        fig = new_figure(title, (7, 4.5))
        ax = fig.add_subplot()
        if "x1" not in data.columns:
            ax.scatter(data["x0"], data["y"], s=14, color="C0")
            label_axes(ax, "x0", "y", f"{len(data)} data points")
        else:  # no dense grid given: colour the points by their target instead
            sc = ax.scatter(data["x0"], data["x1"], c=data["y"], s=16, cmap="viridis")
            fig.colorbar(sc, ax=ax, label="target y")
            label_axes(ax, "x0", "x1", f"{len(data)} data points")
        return fig
    x0, x1, target = (np.asarray(a, float) for a in grid)
    fig = new_figure(title, (12, 5))
    ax3 = add_3d(fig, 1, 2, 1)
    ax = fig.add_subplot(1, 2, 2)
    lo, hi, clipped = filled_contour(ax, x0, x1, target, cmap=with_bad_colour("viridis"),
                                      label="target y", lines=True)
    surface_3d(ax3, x0, x1, target, cmap=with_bad_colour("viridis"), lo=lo, hi=hi, zlabel="target y",
                xlabel="x0", ylabel="x1", clipped=clipped)
    label_axes(ax, "x0", "x1", "target with training data")
    scatter_data(ax, data)
    ax.legend(loc="upper right", fontsize=8)
    return fig


def _targets_figure(data: pd.DataFrame, title: str, names, target_names=None) -> Figure:
    """A multi-output regressor's data: one panel per target column (y0, y1, …), the points
    over the first two features (or the one feature and the target) coloured by it."""
    targets = [c for c in data.columns if c.startswith("y")]
    fig = new_figure(title, (4.6 * len(targets) + 0.8, 4.4))
    for j, column in enumerate(targets):
        ax = fig.add_subplot(1, len(targets), j + 1)
        named = target_names[j] if target_names else column
        if "x1" in data.columns:
            sc = ax.scatter(data["x0"], data["x1"], c=data[column], s=16, cmap="viridis")
            fig.colorbar(sc, ax=ax, label=named)
            label_axes(ax, names[0], names[1], f"target {named}")
        else:
            ax.scatter(data["x0"], data[column], s=14, color=f"C{j}")
            label_axes(ax, names[0], named, f"target {named}")
    return fig


def _scatter_figure(data: pd.DataFrame, title: str, labels: bool, names) -> Figure:
    """The data over its first two features (named), coloured by class or by target."""
    fig = new_figure(title, (7.5, 5))
    ax = fig.add_subplot()
    if labels:
        for k, (label, rows) in enumerate(data.groupby("y", sort=True)):
            ax.scatter(rows["x0"], rows["x1"], s=12, color=f"C{k % 10}", edgecolors="black",
                       linewidths=0.3, label=f"{label} ({len(rows)})")
        ax.legend(fontsize=8, title="class (rows)", loc="best")
    else:
        sc = ax.scatter(data["x0"], data["x1"], c=data["y"], s=14, cmap="viridis")
        fig.colorbar(sc, ax=ax, label="target y")
    label_axes(ax, names[0], names[1], f"{len(data)} data points")
    return fig


def fit_figure(data: pd.DataFrame, *, title: str, x_dense, prediction: np.ndarray,
               target: np.ndarray | None = None) -> Figure:
    """Fig. 3: data, fitted prediction and (optionally) the generating function."""
    if isinstance(x_dense, tuple):
        return _fit_figure_2d(data, title, x_dense, prediction, target)
    fig = new_figure(title, (8, 4.5))
    ax = fig.add_subplot()
    # hollow markers under the curves: with dense data, filled ones would hide the fit
    ax.scatter(data["x0"], data["y"], s=18, facecolors="none", edgecolors="0.55", lw=0.6,
               label="training data", zorder=1)
    x_dense = np.ravel(x_dense)  # (m, 1) model outputs are accepted as well as (m,)
    if target is not None:
        ax.plot(x_dense, np.ravel(target), "--", color="C2", lw=2, label="true function",
                zorder=3)
    ax.plot(x_dense, np.ravel(prediction), color="C3", lw=1.5, label="network prediction",
            zorder=2)
    label_axes(ax, "x0", "y")
    ax.legend()
    return fig


def _fit_figure_2d(data, title, x_dense, prediction, target) -> Figure:
    x0, x1 = (np.asarray(a, float) for a in x_dense)
    panels = [("network prediction", np.asarray(prediction, float), "viridis")]
    if target is not None:
        target = np.asarray(target, float)
        panels += [("true function", target, "viridis"),
                   ("residual (prediction \u2212 target)", panels[0][1] - target, "RdBu_r")]
    fig = new_figure(title, (5.2 * len(panels), 4.5))
    for k, (name, z, cmap) in enumerate(panels, start=1):
        ax = fig.add_subplot(1, len(panels), k)
        filled_contour(ax, x0, x1, z, cmap=with_bad_colour(cmap), label=name, lines=False,
                        centred=cmap == "RdBu_r")
        scatter_data(ax, data, s=6)
        label_axes(ax, "x0", "x1", name)
    return fig


def input_landscape_figure(table: pd.DataFrame, data: pd.DataFrame, *, title: str,
                           axes=("x0", "x1"), labels=None, top_fraction: float = 0.05) -> Figure:
    """Fig. 4: squared error over two inputs, with the high-error region outlined.

    `axes` are the table's (and the data's) columns of the two features, `labels` their
    names on the figure.
    """
    labels = tuple(labels or axes)
    x0, x1, loss = grid_of(table, axes[0], axes[1], "loss")
    lo, hi, clipped = colour_scale(loss)
    cmap = with_bad_colour("magma")
    fig = new_figure(title, (12, 5))
    ax = fig.add_subplot(1, 2, 1)
    ax3 = add_3d(fig, 1, 2, 2)
    mesh = ax.pcolormesh(x0, x1, masked(loss, hi).T, cmap=cmap, norm=Normalize(lo, hi),
                         shading="nearest")
    cbar = fig.colorbar(mesh, ax=ax, extend="max" if clipped else "neither")
    cbar.set_label(scale_label("squared error", hi, clipped))
    handles = _high_error_region(ax, x0, x1, loss, top_fraction, labels)
    points = scatter_data(ax, data, axes, s=5, c="cyan", edgecolors="none", alpha=0.6)
    legend_below(ax, [points, *handles, *bad_patch(loss)], ncols=2)
    label_axes(ax, labels[0], labels[1], "squared error (prediction \u2212 target)\u00b2")
    surface_3d(ax3, x0, x1, loss, cmap=cmap, lo=lo, hi=hi, zlabel="squared error",
                xlabel=labels[0], ylabel=labels[1], clipped=clipped)
    return fig


def decision_figure(table: pd.DataFrame, data: pd.DataFrame, *, title: str, classes,
                    axes=("x0", "x1"), labels=None) -> Figure:
    """A classifier over two inputs: the class it predicts (regions, data coloured by their
    class) and its probability of the target class (the nearest data point's)."""
    labels = tuple(labels or axes)
    x0, x1, predicted = grid_of(table, axes[0], axes[1], "prediction")
    _, _, probability = grid_of(table, axes[0], axes[1], "probability")
    classes = [str(c) for c in classes]
    colours = ListedColormap([f"C{k % 10}" for k in range(len(classes))])
    bounds = BoundaryNorm(np.arange(len(classes) + 1) - 0.5, len(classes))
    fig = new_figure(title, (12, 5.2))
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    left.pcolormesh(x0, x1, predicted.T, cmap=colours, norm=bounds, shading="nearest",
                    alpha=0.35)
    y = data["y"].to_numpy(int)
    for k, name in enumerate(classes):
        here = y == k
        left.scatter(data[axes[0]][here], data[axes[1]][here], s=9, color=f"C{k % 10}",
                     edgecolors="black", linewidths=0.3, zorder=3, label=name)
    left.legend(fontsize=8, title="class", loc="best")
    label_axes(left, labels[0], labels[1], "predicted class (regions) and the data (points)")
    mesh = right.pcolormesh(x0, x1, probability.T, cmap="viridis", norm=Normalize(0.0, 1.0),
                            shading="nearest")
    fig.colorbar(mesh, ax=right, label="probability of the target class")
    right.contour(*np.meshgrid(x0, x1, indexing="ij"), np.ma.masked_invalid(probability),
                  levels=[0.5], colors="white", linewidths=1.0)
    label_axes(right, labels[0], labels[1],
               "probability of the nearest data point's class (white: 0.5)")
    return fig


def _high_error_region(ax, x0, x1, loss, top_fraction, labels=("x0", "x1")) -> list:
    finite = np.isfinite(loss)
    if not finite.any():
        return []
    level = float(np.quantile(loss[finite], 1 - top_fraction))
    handles = []
    zm = np.ma.masked_invalid(loss)
    # contour() warns when the level lies outside the open data range, so guard it.
    if float(zm.min()) < level < float(zm.max()):
        X, Y = np.meshgrid(x0, x1, indexing="ij")
        ax.contour(X, Y, zm, levels=[level], colors="lime", linewidths=1.5)
        handles.append(Line2D([], [], color="lime", lw=1.5,
                              label=f"top {top_fraction:.0%} error (\u2265 {level:.3g})"))
    i, j = np.unravel_index(np.argmax(np.where(finite, loss, -np.inf)), loss.shape)
    (star,) = ax.plot(x0[i], x1[j], "*", ms=16, color="yellow", mec="black", ls="none",
                      zorder=4, gid="argmax",
                      label=f"max error {loss[i, j]:.3g} at ({labels[0]}={x0[i]:.2f}, "
                            f"{labels[1]}={x1[j]:.2f})")
    return handles + [star]


def weights_landscape_figure(table: pd.DataFrame, *, axes: tuple[str, str],
                             centre: dict[str, float], title: str,
                             loss_name: str = "MSE") -> Figure:
    """Fig. 5: MSE over two weights (others fixed); trained point and grid minimum marked."""
    wa, wb = axes
    xa, xb, loss = grid_of(table, wa, wb, "loss")
    cmap = with_bad_colour("viridis")
    fig = new_figure(title, (12, 5))
    ax = fig.add_subplot(1, 2, 1)
    ax3 = add_3d(fig, 1, 2, 2)
    lo, hi, clipped = filled_contour(ax, xa, xb, loss, cmap=cmap, label=f"{loss_name}", lines=True)
    _mark_weights(ax, ax3, xa, xb, loss, (wa, wb), centre, hi, loss_name)
    handles = ax.get_legend_handles_labels()[0] + bad_patch(loss)
    legend_below(ax, handles)
    label_axes(ax, f"{wa} (weight value)", f"{wb} (weight value)", f"{loss_name} contour map")
    surface_3d(ax3, xa, xb, loss, cmap=cmap, lo=lo, hi=hi, zlabel=f"{loss_name}",
                xlabel=f"{wa} (weight value)", ylabel=f"{wb} (weight value)", clipped=clipped)
    return fig


def _mark_weights(ax, ax3, xa, xb, loss, names, centre, hi, loss_name: str) -> None:
    """Mark the trained point and the grid minimum on both panels."""
    ca, cb = float(centre[names[0]]), float(centre[names[1]])
    points = [((ca, cb), dict(marker="X", ms=12, color="red", mec="white", gid="trained",
                              label=f"trained weights ({names[0]}={ca:.3g}, "
                                    f"{names[1]}={cb:.3g})"))]
    finite = np.isfinite(loss)
    if finite.any():
        i, j = np.unravel_index(np.argmin(np.where(finite, loss, np.inf)), loss.shape)
        points.append(((xa[i], xb[j]), dict(
            marker="*", ms=16, color="white", mec="black", gid="grid-minimum",
            label=f"grid minimum {loss_name}={loss[i, j]:.3g} at ({xa[i]:.3g}, {xb[j]:.3g})")))
    for (x, y), style in points:
        ax.plot([x], [y], ls="none", zorder=5, **style)
        # The surface height at a point is read off the nearest grid cell (no evaluation).
        z = loss[np.abs(xa - x).argmin(), np.abs(xb - y).argmin()]
        if np.isfinite(z):
            style3 = {k: v for k, v in style.items() if k not in ("gid", "label")}
            ax3.plot([x], [y], [min(z, hi)], ls="none", zorder=5, **style3)
