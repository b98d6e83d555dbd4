"""Classifiers and regressors on scikit-learn's bundled data: what each fits, and how fast a
weights landscape of it is against the naive loop (one predict_proba or predict per cell).

    .venv/bin/python benchmarks/real_data_benchmark.py [--resolution 101]

For every bundled set: a network trained as the pipeline trains it (standard scaling, 25%
held out, stratified for classifiers), its training and held-out scores, the share of
saturated hidden units, and the time of sl.weights for a first-layer and an output-layer
pair with the held-out column, against the naive loop timed on a few cells and scaled.
Single-threaded, as a pipeline job. Prints a Markdown table for docs/classifiers.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import copy  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402

import sklandscape as sl  # noqa: E402
from sklandscape.data.bundled import BUNDLED, load_bundled  # noqa: E402
from sklandscape.data.datasets import holdout_split  # noqa: E402
from sklandscape.model.network import saturated_share  # noqa: E402
from sklandscape.model.training import fit_mlp  # noqa: E402

HIDDEN = {"diabetes": [16], "breast_cancer": [16], "iris": [8], "wine": [8], "digits": [64, 32]}
NAIVE_CELLS = 40


def naive_seconds_per_cell(model, net, axes, X, y, classifier: bool) -> float:
    """One predict_proba (or predict) on all rows per cell, as a user would loop."""
    rng = np.random.default_rng(0)
    clone = copy.deepcopy(model)
    mlp = clone.steps[-1][1]
    start = time.perf_counter()
    for _ in range(NAIVE_CELLS):
        moved = net.with_values({a: net.value(a) + rng.uniform(-1, 1) for a in axes})
        mlp.coefs_, mlp.intercepts_ = moved.to_estimator_arrays()
        if classifier:
            log_loss(y, clone.predict_proba(X), labels=mlp.classes_)
        else:
            np.mean((clone.predict(X) - y) ** 2)
    return (time.perf_counter() - start) / NAIVE_CELLS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resolution", type=int, default=101)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}; grid {args.resolution}^2, single-threaded")
    print("| data set | network | weights | train | held-out | saturated | pair | sl.weights s "
          "| naive s | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in BUNDLED:
        data = load_bundled(name)
        classifier = data.is_classification
        settings = {"estimator": "classifier" if classifier else "regressor",
                    "hidden_layer_sizes": HIDDEN[name], "solver": "adam", "max_iter": 300,
                    "random_state": 0, "scaling": "standard"}
        y = data.y if classifier else (data.y - data.y.mean()) / data.y.std()
        train, held = holdout_split(len(y), 0.25, 0, data.y if classifier else None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fit_mlp(data.X[train], y[train], settings)
        model, net = fit.model, sl.Network.from_estimator(fit.model)
        scores = lc_scores(model, data.X, y, train, held, classifier)
        last = net.n_layers
        pairs = {"first layer": ("W1[0,0]", "W1[1,1]"),
                 "output layer": (f"W{last}[0,0]", f"b{last}[0]")}
        for where, axes in pairs.items():
            start = time.perf_counter()
            sl.weights(model, data.X[train], y[train], axes=axes, span=1.0,
                       resolution=args.resolution, heldout=(data.X[held], y[held]))
            ours = time.perf_counter() - start
            per_cell = naive_seconds_per_cell(model, net, axes, data.X[train], y[train],
                                              classifier)
            naive = 2 * per_cell * args.resolution**2  # training and held-out rows
            sizes = "-".join(map(str, net.layer_sizes))
            print(f"| {name} | {sizes} {'classifier' if classifier else 'regressor'} | "
                  f"{net.flat.size} | {scores[0]} | {scores[1]} | "
                  f"{saturated_share(net, data.X[train]):.0%} | {where} | {ours:.3f} | "
                  f"{naive:.1f} | {naive / ours:.0f}x |")


def lc_scores(model, X, y, train, held, classifier: bool) -> tuple[str, str]:
    if classifier:
        return tuple(f"acc {np.mean(model.predict(X[r]) == y[r]):.3f}" for r in (train, held))
    return tuple(f"R² {1 - np.mean((model.predict(X[r]) - y[r]) ** 2) / np.var(y[r]):.3f}"
                 for r in (train, held))


if __name__ == "__main__":
    main()
