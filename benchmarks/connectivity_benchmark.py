"""What mode connectivity costs at scale, on scikit-learn's digits (1,797 images, standard-scaled).

    .venv/bin/python benchmarks/connectivity_benchmark.py

- Alignment of two MLPClassifiers [256, 256] (85,002 weights), weight matching and activation
  matching (on all rows): CPU seconds of the search alone.
- The whole connectivity analysis (sl.connectivity with its defaults: 51 points per path, a
  curve trained by up to 200 L-BFGS iterations on 16 points, a 41² plane per pair) over four
  seeds of an MLPClassifier [64, 32] (6,570 weights), six pairs: wall and CPU seconds, and the
  share of the curve training.
Training the networks is not counted (the pipeline's training jobs do it). One BLAS thread, as
the analysis runs. Prints a Markdown table for docs/findings.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import sklandscape as sl  # noqa: E402
from sklandscape.analyses.alignment import activation_matching, weight_matching  # noqa: E402
from sklandscape.model.network import Network  # noqa: E402


def _clock():
    return time.perf_counter(), time.process_time()


def _since(start):
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def main() -> None:
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wide = [Network.from_estimator(MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=30,
                                                     random_state=s).fit(X, y)) for s in (0, 1)]
        models = [MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=200, random_state=s)
                  .fit(X, y) for s in range(4)]
    for label, search in (("weight matching", lambda: weight_matching(*wide)),
                          ("activation matching", lambda: activation_matching(*wide, X))):
        start = _clock()
        search()
        wall, cpu = _since(start)
        rows.append((f"align [256, 256], {label}", f"{wall:.2f}", f"{cpu:.2f}"))
    start = _clock()
    result = sl.connectivity(models, X, y)
    wall, cpu = _since(start)
    pairs = result.tables["pairs"]
    rows.append(("connectivity, [64, 32], 4 seeds (6 pairs)", f"{wall:.1f}", f"{cpu:.1f}"))
    print(f"Machine: {platform.node()}, {os.cpu_count()} CPUs, {platform.processor() or '?'}; "
          "one BLAS thread.\n")
    print("| what | wall s | CPU s |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\ncurve training: {pairs['curve_evaluations'].sum()} evaluations of 16 points in all; "
          f"mean barriers: linear {pairs['barrier_linear'].mean():.3g}, aligned "
          f"{pairs['barrier_aligned'].mean():.3g}, curve {pairs['barrier_curve'].mean():.3g}")


if __name__ == "__main__":
    main()
