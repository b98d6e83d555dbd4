"""Figures of the whole network's Hessian, drawn from the curvature analysis' tables:

- the eigenvalue density (stochastic Lanczos quadrature, or the exact eigenvalues), on a
  symmetric-log eigenvalue axis so that the bulk near zero and the outliers both show;
- 1-D cuts of the loss along the top eigenvectors, beside the second-order model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sklandscape.analyses.spectrum import Quadrature
from sklandscape.figures.drawing import legend_below, new_figure

DENSITY_POINTS = 2001


def density_figure(nodes: pd.DataFrame, *, lambda_max: float, trace: float,
                   trace_error: float, title: str, note: str = "",
                   loss_name: str = "MSE") -> Figure:
    """The eigenvalue density, Gaussian-smoothed nodes of every probe, and the nodes themselves."""
    values = nodes["node"].to_numpy(float)
    weights = nodes["weight"].to_numpy(float)
    probes = int(nodes["probe"].max()) + 1 if len(nodes) else 1
    scale = max(float(np.max(np.abs(values))), np.finfo(float).tiny)
    threshold = scale * 1e-4  # the symmetric-log axis is linear within +-this
    fig = new_figure(title, (10, 5.6))
    ax = fig.add_subplot()
    # Smooth in the axis' own coordinates, so that a peak looks as wide near zero as far out.
    warped = Quadrature(nodes["probe"].to_numpy(), np.arcsinh(values / threshold), weights,
                        probes)
    grid = np.linspace(warped.nodes.min() - 1, warped.nodes.max() + 1, DENSITY_POINTS)
    density = warped.density(grid, sigma=(grid[-1] - grid[0]) / 200)
    x = threshold * np.sinh(grid)
    ax.fill_between(x, density, color="#4c72b0", alpha=0.35, lw=0)
    ax.plot(x, density, color="#4c72b0", lw=1.4, label="smoothed density (per unit of asinh axis)")
    ax.vlines(values, 0, weights * density.max() / max(weights.max(), 1e-300), color="0.2",
              lw=0.6, alpha=0.7, label="quadrature nodes (height: weight)")
    ax.axvline(lambda_max, color="#b2182b", ls="--", lw=1.2,
               label=f"largest eigenvalue {lambda_max:.4g}")
    ax.axvline(0, color="0.4", lw=0.8)
    ax.set_xscale("symlog", linthresh=threshold)
    # Inside the linear band the default ticks crowd zero's label: keep 0 and the decades.
    limits = ax.get_xlim()
    ax.set_xticks([t for t in ax.get_xticks() if t == 0 or abs(t) >= threshold])
    ax.set_xlim(limits)
    ax.set_yscale("log")
    ax.set_ylim(max(density.max() * 1e-6, 1e-12), density.max() * 3)
    ax.set(xlabel=f"eigenvalue of the Hessian of the {loss_name} (symmetric log scale)",
           ylabel="density (log scale)")
    ax.set_title(f"eigenvalue density; trace {trace:.4g}"
                 + (f" ± {trace_error:.2g} (Hutchinson)" if trace_error else " (exact)"),
                 fontsize=10)
    legend_below(ax, ax.get_legend_handles_labels()[0], ncols=2)
    if note:
        ax.text(0.02, 0.98, note, transform=ax.transAxes, va="top", fontsize=9,
                bbox=dict(boxstyle="round", fc="white", ec="0.6", alpha=0.9))
    return fig


def cuts_figure(cuts: pd.DataFrame, *, title: str, loss_name: str = "MSE") -> Figure:
    """One panel per top eigenvector: the loss along it, the quadratic model, held-out loss."""
    ranks = sorted(cuts["rank"].unique())
    columns = min(len(ranks), 3)
    rows = -(-len(ranks) // columns)
    fig = new_figure(title, (4.3 * columns, 3.4 * rows + 0.9))
    for k, rank in enumerate(ranks):
        ax = fig.add_subplot(rows, columns, k + 1)
        draw_cut(ax, cuts[cuts["rank"] == rank], loss_name)
        if k == 0:
            fig.legend(handles=ax.get_legend_handles_labels()[0], loc="outside lower center",
                       ncols=3, fontsize=9, frameon=False)
    return fig


def draw_cut(ax, part: pd.DataFrame, loss_name: str = "MSE", **kwargs):
    """One eigenvector's cut on `ax` (rows of one rank of an eigen_cuts table): the loss, the
    second-order model, the held-out loss. `kwargs` go to the loss curve. Returns its Line2D."""
    t = part["t"].to_numpy(float)
    line, = ax.plot(t, part["loss"], **({"color": "black", "lw": 1.6} | kwargs),
                    label=f"{loss_name} (training rows)")
    ax.plot(t, part["quadratic"], color="#b2182b", ls="--", lw=1.2, label="L + (g·v) t + ½ λ t²")
    if "loss_heldout" in part:
        ax.plot(t, part["loss_heldout"], color="#2166ac", lw=1.2, label="held-out rows")
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set_title(f"eigenvector {int(part['rank'].iloc[0]) + 1} "
                 f"(λ = {part['eigenvalue'].iloc[0]:.4g})", fontsize=10)
    ax.set(xlabel="t (distance along the eigenvector)", ylabel=loss_name)
    return line
