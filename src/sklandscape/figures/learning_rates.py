"""The learning-rate check: loss against iteration for each rate, one panel per momentum, with
the predicted stable limit and the measured one in words."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from sklandscape.figures.drawing import new_figure

STYLE = {"settled": "-", "escaped": "--", "diverged": ":"}


def learning_rates_figure(curves: pd.DataFrame, rates: pd.DataFrame, limits: pd.DataFrame,
                          trained_loss: float, *, title: str) -> Figure:
    momenta = list(limits["momentum"])
    fig = new_figure(title, (6.0 * len(momenta), 4.6))
    axes = fig.subplots(1, len(momenta), squeeze=False)[0]
    colours = colormaps["coolwarm"]
    factors = sorted(rates["factor"].unique())
    scale = np.log(max(factors) / min(factors)) or 1.0
    for ax, limit in zip(axes, limits.itertuples()):
        for run in rates[rates["momentum"] == limit.momentum].itertuples():
            curve = curves[(curves["momentum"] == run.momentum) & (curves["factor"] == run.factor)]
            excess = np.abs(curve["loss"].to_numpy() - trained_loss)
            shade = colours(np.log(run.factor / min(factors)) / scale)
            ax.semilogy(curve["iteration"], np.where(excess > 0, excess, np.nan),
                        STYLE[run.outcome], color=shade, linewidth=1.2,
                        label=f"{run.factor:g}× (η = {run.learning_rate:.3g}): {run.outcome}")
        measured = ("not bracketed by the rates tried" if not np.isfinite(limit.measured_limit)
                    else f"measured {limit.measured_limit:.4g} ({limit.ratio:.3f}× predicted)")
        ax.set_title(f"momentum β = {limit.momentum:g}: predicted limit "
                     f"{limit.predicted_limit:.4g}; {measured}", fontsize=9)
        ax.set_xlabel("iteration (full-batch step)")
        ax.set_ylabel("|loss - trained loss| (scikit-learn's objective)")
        ax.legend(fontsize=6, loc="best", title="rate: outcome (solid settled, dashed escaped, "
                  "dotted diverged)", title_fontsize=6)
    return fig
