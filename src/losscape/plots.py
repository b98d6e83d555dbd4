"""Figures of the loss-landscape article (figs. 1-5), drawn from tables; nothing is evaluated.

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
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

DPI = 120
BAD_COLOUR = "0.55"  # grey: never part of viridis/magma, so non-finite cells stand out
FULL_LABEL_MAX_PARAMS = 30


def _new_figure(title: str, size: tuple[float, float]) -> Figure:
    fig = Figure(figsize=size, layout="constrained")
    # ~11 characters per inch keeps long titles to a few lines at 12 pt.
    fig.suptitle(textwrap.fill(title, width=max(40, int(size[0] * 11))), fontsize=12)
    return fig


def _fmt(value: float) -> str:
    return f"{value:.2f}".replace("-", "\u2212")


def _grid(table: pd.DataFrame, xcol: str, ycol: str, zcol: str):
    """Reshape a flat regular-grid table to (x(G0,), y(G1,), Z(G0, G1))."""
    xs, xi = np.unique(table[xcol].to_numpy(float), return_inverse=True)
    ys, yi = np.unique(table[ycol].to_numpy(float), return_inverse=True)
    if len(table) != xs.size * ys.size:
        raise ValueError(f"{xcol}/{ycol}: {len(table)} rows is not a {xs.size}x{ys.size} grid")
    z = np.full((xs.size, ys.size), np.nan)
    # Indexing by position (not row order) tolerates any sort order of the table.
    z[xi, yi] = table[zcol].to_numpy(float)
    return xs, ys, z


def _colour_scale(z: np.ndarray, centred: bool = False):
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


def _scale_label(label: str, hi: float, clipped: bool) -> str:
    return f"{label}\n(colour scale clipped at {hi:.3g})" if clipped else label


def _masked(z: np.ndarray, hi: float) -> np.ma.MaskedArray:
    # Clip so huge finite values cannot overflow colour mapping or 3-D limits.
    return np.ma.minimum(np.ma.masked_invalid(z), hi)


def _cmap(name: str):
    return colormaps[name].with_extremes(bad=BAD_COLOUR)


def _bad_patch(z: np.ndarray) -> list[Patch]:
    n_bad = int((~np.isfinite(z)).sum())
    return [Patch(color=BAD_COLOUR, label=f"non-finite loss ({n_bad} cells)")] if n_bad else []


def _add_3d(fig: Figure, *args):
    # Without computed_zorder=False, markers are hidden behind the surface.
    return fig.add_subplot(*args, projection="3d", computed_zorder=False)


def _surface_3d(ax, x, y, z, *, cmap, lo, hi, zlabel, xlabel, ylabel, clipped=False):
    X, Y = np.meshgrid(x, y, indexing="ij")
    zm = _masked(z, hi)
    if zm.count():
        ax.plot_surface(X, Y, zm, cmap=cmap, norm=Normalize(lo, hi), linewidth=0,
                        antialiased=False, alpha=0.95, zorder=1)
    ax.set_zlim(lo, hi)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.set_zlabel(zlabel, labelpad=7)  # default pad collides with the z tick labels
    ax.set_title("3-D surface" + (f" (z clipped at {hi:.3g})" if clipped else ""), fontsize=10)


def _filled_contour(ax, x, y, z, *, cmap, label, lines: bool, centred: bool = False):
    """Filled contour of z with colorbar; non-finite holes show the axes' bad colour."""
    lo, hi, clipped = _colour_scale(z, centred)
    X, Y = np.meshgrid(x, y, indexing="ij")
    zm = _masked(z, hi)
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
    cbar.set_label(_scale_label(label, hi, clipped))
    return lo, hi, clipped


def _label(ax, xlabel: str, ylabel: str, title: str = "") -> None:
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.set_title(title, fontsize=10)


def _legend_below(ax, handles, ncols: int = 1) -> None:
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=8,
              ncols=ncols, frameon=False)


def _scatter_data(ax, data: pd.DataFrame, **kw):
    style = dict(s=10, c="white", edgecolors="black", linewidths=0.5, label="training data")
    return ax.scatter(data["x0"], data["x1"], zorder=3, **(style | kw))


def _node_positions(layer_sizes: list[int]) -> dict[tuple[int, int], tuple[float, float]]:
    # Same vertical spacing in every layer, centred, unit 0 on top.
    return {(layer, j): (float(layer), (n - 1) / 2 - j)
            for layer, n in enumerate(layer_sizes) for j in range(n)}


def network_diagram(layer_sizes: list[int], weights: pd.DataFrame, *, title: str) -> Figure:
    """Fig. 1: the network graph; edges coloured/thickened by weight, nodes filled by bias."""
    full = len(weights) <= FULL_LABEL_MAX_PARAMS
    fig = _new_figure(title, (9, 5) if full else (11, 8.5))
    ax = fig.add_subplot()
    pos = _node_positions(layer_sizes)
    values = weights["value"].to_numpy(float)
    vmax = float(np.max(np.abs(values[np.isfinite(values)]), initial=0.0)) or 1.0
    norm, cmap = Normalize(-vmax, vmax), colormaps["RdBu_r"]
    _draw_edges(ax, weights[weights["kind"] == "weight"], pos, norm, cmap, full, layer_sizes)
    _draw_nodes(ax, pos, weights, norm, cmap, full)
    top = (max(layer_sizes) - 1) / 2 + 0.45
    kinds = ["input"] + [f"hidden {k}" for k in range(1, len(layer_sizes) - 1)] + ["output"]
    for layer, (n, kind) in enumerate(zip(layer_sizes, kinds)):
        ax.text(layer, top, f"{kind} (layer {layer})\n{n} unit{'s' if n > 1 else ''}",
                ha="center", va="bottom", fontsize=9, weight="bold")
        if not full and layer > 0:
            _block_label(ax, layer, layer_sizes, top)
    ax.set_xlim(-0.4, len(layer_sizes) - 0.6)
    ax.set_ylim(-top - (0.1 if full else 1.4), top + (0.35 if full else 0.8))
    ax.axis("off")
    cbar = fig.colorbar(ScalarMappable(norm, cmap), ax=ax, shrink=0.8)
    cbar.set_label("parameter value\n(edge colour & width: weight; node fill: bias)")
    ax.set_title(f"{len(weights)} parameters. W2[i,j] = weight from unit i of layer 1 to unit j "
                 "of layer 2; b2[j] = bias of unit j of layer 2", fontsize=9)
    return fig


def _draw_edges(ax, edges, pos, norm, cmap, full: bool, layer_sizes) -> None:
    # Strong weights drawn last so they stay visible in dense blocks.
    for row in edges.iloc[np.argsort(np.abs(edges["value"].to_numpy(float)))].itertuples():
        p1, p2 = pos[row.layer - 1, int(row.i)], pos[row.layer, int(row.j)]
        strength = min(abs(row.value) / norm.vmax, 1.0) if np.isfinite(row.value) else 1.0
        # Grey underlay: near-zero weights map to near-white and would vanish.
        ax.plot(*zip(p1, p2), color="0.75", lw=0.5, zorder=0.5)
        ax.plot(*zip(p1, p2), color=cmap(norm(row.value)), zorder=1, solid_capstyle="round",
                lw=0.5 + (3.5 if full else 2.0) * strength, alpha=1.0 if full else 0.75)
        if full:
            _edge_label(ax, row, p1, p2, layer_sizes[row.layer])


def _draw_nodes(ax, pos, weights, norm, cmap, full: bool) -> None:
    biases = {(r.layer, int(r.j)): r for r in weights[weights["kind"] == "bias"].itertuples()}
    for (layer, j), (x, y) in pos.items():
        b = biases.get((layer, j))
        face = cmap(norm(b.value)) if b is not None else "white"
        # scatter markers stay round whatever the axes aspect ratio.
        ax.scatter([x], [y], s=900 if full else 380, c=[face], edgecolors="black", zorder=3)
        dark = b is not None and abs(norm(b.value) - 0.5) > 0.3
        ax.text(x, y, f"x{j}" if layer == 0 else str(j), ha="center", va="center", zorder=4,
                fontsize=9 if full else 8, color="white" if dark else "black")
        if full and b is not None:
            ax.annotate(f"{b.name}={_fmt(b.value)}", (x, y), xytext=(0, -20),
                        textcoords="offset points", ha="center", va="top", fontsize=9,
                        color="0.2")


def _edge_label(ax, row, p1, p2, n_target: int) -> None:
    # Stagger along the edge by target index so labels of crossing edges separate.
    t = 0.5 if n_target == 1 else 0.35 + 0.3 * int(row.j) / (n_target - 1)
    x, y = p1[0] + t * (p2[0] - p1[0]), p1[1] + t * (p2[1] - p1[1])
    ax.text(x, y, f"{row.name}={_fmt(row.value)}", ha="center", va="center", fontsize=9,
            zorder=2, bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="0.7", lw=0.5))


def _block_label(ax, layer: int, sizes: list[int], top: float) -> None:
    n_in, n_out = sizes[layer - 1], sizes[layer]
    ax.text(layer - 0.5, -top + 0.1, f"W{layer}[i,j]: {n_in}\u00d7{n_out}\ni = unit in layer "
            f"{layer - 1}\nj = unit in layer {layer}", ha="center", va="top", fontsize=9,
            bbox=dict(boxstyle="round", fc="white", ec="0.6"))
    ax.text(layer, -top + 0.1, f"b{layer}[j]: {n_out}\n(node fill)", ha="center", va="top",
            fontsize=9, color="0.2")


def dataset_figure(data: pd.DataFrame, *, title: str,
                   grid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> Figure:
    """Fig. 2: the target surface with the data (2-D input) or the raw data (1-D input)."""
    if "x1" not in data.columns or grid is None:
        fig = _new_figure(title, (7, 4.5))
        ax = fig.add_subplot()
        if "x1" not in data.columns:
            ax.scatter(data["x0"], data["y"], s=14, color="C0")
            _label(ax, "x0", "y", f"{len(data)} data points")
        else:  # no dense grid given: colour the points by their target instead
            sc = ax.scatter(data["x0"], data["x1"], c=data["y"], s=16, cmap="viridis")
            fig.colorbar(sc, ax=ax, label="target y")
            _label(ax, "x0", "x1", f"{len(data)} data points")
        return fig
    x0, x1, target = (np.asarray(a, float) for a in grid)
    fig = _new_figure(title, (12, 5))
    ax3 = _add_3d(fig, 1, 2, 1)
    ax = fig.add_subplot(1, 2, 2)
    lo, hi, clipped = _filled_contour(ax, x0, x1, target, cmap=_cmap("viridis"),
                                      label="target y", lines=True)
    _surface_3d(ax3, x0, x1, target, cmap=_cmap("viridis"), lo=lo, hi=hi, zlabel="target y",
                xlabel="x0", ylabel="x1", clipped=clipped)
    _label(ax, "x0", "x1", "target with training data")
    _scatter_data(ax, data)
    ax.legend(loc="upper right", fontsize=8)
    return fig


def fit_figure(data: pd.DataFrame, *, title: str, x_dense, prediction: np.ndarray,
               target: np.ndarray | None = None) -> Figure:
    """Fig. 3: data, fitted prediction and (optionally) the generating function."""
    if isinstance(x_dense, tuple):
        return _fit_figure_2d(data, title, x_dense, prediction, target)
    fig = _new_figure(title, (8, 4.5))
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
    _label(ax, "x0", "y")
    ax.legend()
    return fig


def _fit_figure_2d(data, title, x_dense, prediction, target) -> Figure:
    x0, x1 = (np.asarray(a, float) for a in x_dense)
    panels = [("network prediction", np.asarray(prediction, float), "viridis")]
    if target is not None:
        target = np.asarray(target, float)
        panels += [("true function", target, "viridis"),
                   ("residual (prediction \u2212 target)", panels[0][1] - target, "RdBu_r")]
    fig = _new_figure(title, (5.2 * len(panels), 4.5))
    for k, (name, z, cmap) in enumerate(panels, start=1):
        ax = fig.add_subplot(1, len(panels), k)
        _filled_contour(ax, x0, x1, z, cmap=_cmap(cmap), label=name, lines=False,
                        centred=cmap == "RdBu_r")
        _scatter_data(ax, data, s=6)
        _label(ax, "x0", "x1", name)
    return fig


def input_landscape_figure(table: pd.DataFrame, data: pd.DataFrame, *, title: str,
                           top_fraction: float = 0.05) -> Figure:
    """Fig. 4: squared error over the input plane, with the high-error region outlined."""
    x0, x1, loss = _grid(table, "x0", "x1", "loss")
    lo, hi, clipped = _colour_scale(loss)
    cmap = _cmap("magma")
    fig = _new_figure(title, (12, 5))
    ax = fig.add_subplot(1, 2, 1)
    ax3 = _add_3d(fig, 1, 2, 2)
    mesh = ax.pcolormesh(x0, x1, _masked(loss, hi).T, cmap=cmap, norm=Normalize(lo, hi),
                         shading="nearest")
    cbar = fig.colorbar(mesh, ax=ax, extend="max" if clipped else "neither")
    cbar.set_label(_scale_label("squared error", hi, clipped))
    handles = _high_error_region(ax, x0, x1, loss, top_fraction)
    points = _scatter_data(ax, data, s=5, c="cyan", edgecolors="none", alpha=0.6)
    _legend_below(ax, [points, *handles, *_bad_patch(loss)], ncols=2)
    _label(ax, "x0", "x1", "squared error (prediction \u2212 target)\u00b2")
    _surface_3d(ax3, x0, x1, loss, cmap=cmap, lo=lo, hi=hi, zlabel="squared error",
                xlabel="x0", ylabel="x1", clipped=clipped)
    return fig


def _high_error_region(ax, x0, x1, loss, top_fraction) -> list:
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
                      label=f"max error {loss[i, j]:.3g} at (x0={x0[i]:.2f}, x1={x1[j]:.2f})")
    return handles + [star]


def weights_landscape_figure(table: pd.DataFrame, *, axes: tuple[str, str],
                             centre: dict[str, float], title: str) -> Figure:
    """Fig. 5: MSE over two weights (others fixed); trained point and grid minimum marked."""
    wa, wb = axes
    xa, xb, loss = _grid(table, wa, wb, "loss")
    cmap = _cmap("viridis")
    fig = _new_figure(title, (12, 5))
    ax = fig.add_subplot(1, 2, 1)
    ax3 = _add_3d(fig, 1, 2, 2)
    lo, hi, clipped = _filled_contour(ax, xa, xb, loss, cmap=cmap, label="MSE", lines=True)
    _mark_weights(ax, ax3, xa, xb, loss, (wa, wb), centre, hi)
    handles = ax.get_legend_handles_labels()[0] + _bad_patch(loss)
    _legend_below(ax, handles)
    _label(ax, f"{wa} (weight value)", f"{wb} (weight value)", "MSE contour map")
    _surface_3d(ax3, xa, xb, loss, cmap=cmap, lo=lo, hi=hi, zlabel="MSE",
                xlabel=f"{wa} (weight value)", ylabel=f"{wb} (weight value)", clipped=clipped)
    return fig


def _mark_weights(ax, ax3, xa, xb, loss, names, centre, hi) -> None:
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
            label=f"grid minimum MSE={loss[i, j]:.3g} at ({xa[i]:.3g}, {xb[j]:.3g})")))
    for (x, y), style in points:
        ax.plot([x], [y], ls="none", zorder=5, **style)
        # The surface height at a point is read off the nearest grid cell (no evaluation).
        z = loss[np.abs(xa - x).argmin(), np.abs(xb - y).argmin()]
        if np.isfinite(z):
            style3 = {k: v for k, v in style.items() if k not in ("gid", "label")}
            ax3.plot([x], [y], [min(z, hi)], ls="none", zorder=5, **style3)


def save_figure(fig: Figure, path) -> None:
    """Write a byte-reproducible PNG (fixed dpi, no software/version metadata)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
