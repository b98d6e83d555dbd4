"""Drawing of the whole network's Hessian on an Axes, from the curvature analysis' tables
(sklandscape.api.analysis_displays' SpectrumDisplay and CutsDisplay draw with these):

- the eigenvalue density (stochastic Lanczos quadrature, or the exact eigenvalues), on a
  symmetric-log eigenvalue axis so that the bulk near zero and the outliers both show;
- 1-D cuts of the loss along the top eigenvectors, beside the second-order model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sklandscape.analyses.spectrum import Quadrature
from sklandscape.figures.drawing import legend_below

DENSITY_POINTS = 2001


def draw_density(ax, nodes: pd.DataFrame, *, lambda_max: float, trace: float,
                 trace_error: float, note: str = "", loss_name: str = "MSE",
                 label: str | None = None, annotate: bool = True, **kwargs):
    """The eigenvalue density on `ax`: Gaussian-smoothed nodes of every probe, and with
    `annotate` the nodes themselves, the largest eigenvalue, the trace, the axes' scales and
    labels (off for a second network's density on the same Axes, drawn on its scale).
    `kwargs` go to the density curve. Returns its Line2D."""
    values = nodes["node"].to_numpy(float)
    weights = nodes["weight"].to_numpy(float)
    probes = int(nodes["probe"].max()) + 1 if len(nodes) else 1
    scale = max(float(np.max(np.abs(values))), np.finfo(float).tiny)
    threshold = scale * 1e-4  # the symmetric-log axis is linear within +-this
    if not annotate and ax.get_xscale() == "symlog":  # another density's axis: its scale
        threshold = ax.xaxis.get_transform().linthresh
    # Smooth in the axis' own coordinates, so that a peak looks as wide near zero as far out.
    warped = Quadrature(nodes["probe"].to_numpy(), np.arcsinh(values / threshold), weights,
                        probes)
    grid = np.linspace(warped.nodes.min() - 1, warped.nodes.max() + 1, DENSITY_POINTS)
    density = warped.density(grid, sigma=(grid[-1] - grid[0]) / 200)
    x = threshold * np.sinh(grid)
    style = {"color": "#4c72b0", "lw": 1.4} if annotate else {"lw": 1.4}
    line, = ax.plot(x, density, **(style | kwargs),
                    label=label or "smoothed density (per unit of asinh axis)")
    ax.fill_between(x, density, color=line.get_color(), alpha=0.35 if annotate else 0.15, lw=0)
    if not annotate:
        return line
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
    return line


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
