"""Predicted against actual target: the fit figure for a network with more inputs than a
plot has axes (a user's table with many feature columns, say), and a classifier's confusion
matrix. Drawing only."""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.figure import Figure


def parity_figure(y: np.ndarray, prediction: np.ndarray, *, title: str,
                  target_names=None) -> Figure:
    """One point per sample at (y, prediction), with the line a perfect fit would lie on; a
    multi-output regressor's (y and prediction (n, k)) in one panel per target."""
    y, prediction = np.asarray(y, float), np.asarray(prediction, float)
    if y.ndim == 1:
        y, prediction = y[:, None], np.reshape(prediction, (-1, 1))
    k = y.shape[1]
    names = list(target_names or (["y"] if k == 1 else [f"y{j}" for j in range(k)]))
    fig = Figure(figsize=(6 if k == 1 else 4.4 * k, 5.5), layout="constrained")
    fig.suptitle(textwrap.fill(title, width=66 if k == 1 else 40 * k), fontsize=12)
    for j in range(k):
        ax = fig.add_subplot(1, k, j + 1)
        truth, guess = y[:, j], prediction[:, j]
        ax.scatter(truth, guess, s=14, facecolors="none", edgecolors="C0", lw=0.7,
                   label=f"{len(truth)} training samples")
        finite = np.concatenate([truth[np.isfinite(truth)], guess[np.isfinite(guess)]])
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        ax.plot([lo, hi], [lo, hi], "--", color="C3", lw=1.2, label="prediction = target")
        ax.set(xlabel=f"target {names[j]}", ylabel=f"network prediction of {names[j]}",
               aspect="equal")
        ax.legend(loc="upper left", fontsize=8)
    return fig


def confusion_figure(true: np.ndarray, predicted: np.ndarray, classes, *, title: str) -> Figure:
    """A classifier's fit: how many samples of each true class (rows) it assigns to each
    class (columns), the share of the row written in each cell."""
    k = len(classes)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (np.asarray(true, int), np.asarray(predicted, int)), 1)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = min(4.5 + 0.45 * k, 11)
    fig = Figure(figsize=(size + 1.2, size), layout="constrained")
    fig.suptitle(textwrap.fill(title, width=70), fontsize=12)
    ax = fig.add_subplot()
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, label="share of the true class")
    names = [str(c) for c in classes]
    ax.set(xticks=range(k), yticks=range(k), xlabel="predicted class", ylabel="true class")
    ax.set_xticklabels(names, rotation=45 if k > 4 else 0, ha="right" if k > 4 else "center")
    ax.set_yticklabels(names)
    if k <= 12:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, f"{counts[i, j]}\n{shares[i, j]:.0%}", ha="center", va="center",
                        fontsize=8, color="white" if shares[i, j] > 0.6 else "black")
    return fig
