"""Predicted against actual target: the fit figure for a network with more inputs than a
plot has axes (a user's table with many feature columns, say). Drawing only."""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.figure import Figure


def parity_figure(y: np.ndarray, prediction: np.ndarray, *, title: str) -> Figure:
    """One point per sample at (y, prediction), with the line a perfect fit would lie on."""
    y, prediction = np.ravel(np.asarray(y, float)), np.ravel(np.asarray(prediction, float))
    fig = Figure(figsize=(6, 5.5), layout="constrained")
    fig.suptitle(textwrap.fill(title, width=66), fontsize=12)
    ax = fig.add_subplot()
    ax.scatter(y, prediction, s=14, facecolors="none", edgecolors="C0", lw=0.7,
               label=f"{len(y)} training samples")
    finite = np.concatenate([y[np.isfinite(y)], prediction[np.isfinite(prediction)]])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    ax.plot([lo, hi], [lo, hi], "--", color="C3", lw=1.2, label="prediction = target")
    ax.set(xlabel="target y", ylabel="network prediction", aspect="equal")
    ax.legend(loc="upper left")
    return fig
