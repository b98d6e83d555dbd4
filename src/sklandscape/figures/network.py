"""Fig. 1 of the article: the network as a graph, every weight an edge coloured and
thickened by its value, every bias the fill of its node. Drawing only."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from sklandscape.figures.drawing import new_figure

FULL_LABEL_MAX_PARAMS = 30  # above this many parameters, blocks are named instead of edges


def _fmt(value: float) -> str:
    return f"{value:.2f}".replace("-", "\u2212")


def _node_positions(layer_sizes: list[int]) -> dict[tuple[int, int], tuple[float, float]]:
    # Same vertical spacing in every layer, centred, unit 0 on top.
    return {(layer, j): (float(layer), (n - 1) / 2 - j)
            for layer, n in enumerate(layer_sizes) for j in range(n)}


def network_diagram(layer_sizes: list[int], weights: pd.DataFrame, *, title: str) -> Figure:
    """Fig. 1: the network graph; edges coloured/thickened by weight, nodes filled by bias."""
    full = len(weights) <= FULL_LABEL_MAX_PARAMS
    fig = new_figure(title, (9, 5) if full else (11, 8.5))
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
