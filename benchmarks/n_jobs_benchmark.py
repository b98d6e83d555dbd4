"""n_jobs on the grid kinds and the analyses that take it: wall time with one worker and with two, the workers' start-up
included, and whether the tables are the same bits.

    .venv/bin/python benchmarks/n_jobs_benchmark.py

digits (1,797 rows, standard-scaled), MLPClassifier [64, 32] (50 epochs): `sl.weights` at
201² with a held-out column, `sl.weight_pairs` on 3 weights at 101², `sl.interpolation` at 2001
points, `sl.connectivity` between 3 seeds and `sl.learning_rates` (20 runs of scikit-learn's
sgd) and `sl.curvature` matrix-free (threads share each product's rows). One run each,
n_jobs=None then n_jobs=2, progress bars off. Arguments pick calls by a word of their label. Prints a Markdown table for docs/engine.md.
"""

from __future__ import annotations

import os
import platform
import sys
import time
import warnings

from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklandscape as sl


def main() -> None:
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = [make_pipeline(StandardScaler(), MLPClassifier(
            hidden_layer_sizes=(64, 32), max_iter=50, random_state=seed)).fit(X, y)
            for seed in range(3)]
    model = models[0]
    start = 0.5 * sl.Network.from_estimator(model).flat
    calls = {
        "weights, 201², held-out column": lambda n_jobs: sl.weights(
            model, X, y, axes=("W1[20,3]", "W2[5,7]"), resolution=201, heldout=(X[:100], y[:100]),
            n_jobs=n_jobs, progress=False),
        "weight_pairs, 3 weights, 101²": lambda n_jobs: sl.weight_pairs(
            model, X, y, axes=["W1[20,3]", "b1[4]", "W3[2,1]"], resolution=101, n_jobs=n_jobs,
            progress=False),
        "interpolation, 2001 points": lambda n_jobs: sl.interpolation(
            model, X, y, start, resolution=2001, n_jobs=n_jobs, progress=False),
        "connectivity, 3 seeds (3 pairs)": lambda n_jobs: sl.connectivity(
            models, X, y, resolution=21, curve_max_iter=20, plane_resolution=21, n_jobs=n_jobs,
            progress=False),
        "learning_rates, 2 momenta x 10 rates": lambda n_jobs: sl.learning_rates(
            model, X, y, n_jobs=n_jobs, progress=False),
        "curvature, matrix-free (6,570 weights)": lambda n_jobs: sl.curvature(
            model, X, y, sl.weights(model, X, y, axes=("W1[20,3]", "W2[5,7]"), resolution=5,
                                    progress=False),
            full_hessian_max_weights=1000, n_jobs=n_jobs, progress=False),
    }
    wanted = [label for label in calls if any(word in label for word in sys.argv[1:])]
    calls = {label: calls[label] for label in wanted or calls}  # arguments: some calls only
    print(f"machine: {platform.node()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; digits MLPClassifier "
          "[64, 32]; wall s, one run each\n")
    print("| call | n_jobs=None | n_jobs=2 | speed-up | same tables |\n|---|---|---|---|---|")
    for label, call in calls.items():
        walls, results = {}, {}
        for n_jobs in (None, 2):
            began = time.perf_counter()
            results[n_jobs] = call(n_jobs)
            walls[n_jobs] = time.perf_counter() - began
        same = all(table.equals(results[2].tables[key])
                   for key, table in results[None].tables.items())
        print(f"| {label} | {walls[None]:.2f} | {walls[2]:.2f} | "
              f"{walls[None] / walls[2]:.2f}× | {same} |", flush=True)


if __name__ == "__main__":
    main()
