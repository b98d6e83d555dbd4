"""A classifier's weights slices against a regressor's of the same size, pair kind by pair
kind: breast_cancer, all 569 rows, standard scaled, hidden [32, 16] (relu), one BLAS thread.

    .venv/bin/python benchmarks/pair_kinds_benchmark.py [--resolution 1001] [--plain 201]

For each pair kind (as the single-output regressor's engine names them) it times the whole
slice, CPU seconds, of the regressor (its structured paths), of the classifier (the output
update, sklandscape.engine.output_slices), and of the classifier by the plain batched pass
(timed on a --plain grid and scaled per cell: what a classifier cost before). Every
classifier cell is checked against the plain pass on a small grid first. Prints a Markdown
table for docs/engine.md, the machine named; then weight_pairs at 85,002 weights (digits
[256, 256]) against the plain pass.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklandscape.engine.landscape import plain_measure_rows, weights_grid  # noqa: E402
from sklandscape.engine.structured import plan_pair, weights_slice_measures  # noqa: E402
from sklandscape.model.network import Network  # noqa: E402

PAIRS = {  # the regressor's kind -> a pair of that kind in a 30-32-16-1 network
    "output-layer pair": ("W3[4,0]", "b3[0]"),
    "output quadratic": ("W2[3,5]", "W3[5,0]"),
    "separable": ("W2[0,1]", "W2[1,2]"),
    "one unit": ("W2[0,1]", "W2[3,1]"),
    "rank update": ("W1[0,0]", "W1[1,3]"),
}


def cpu_seconds(rows) -> tuple[float, dict]:
    start = time.process_time()
    found = {}
    for first, columns in rows:
        for key, values in columns.items():
            found.setdefault(key, []).append((first, values))
    return time.process_time() - start, found


def assemble(parts, shape) -> np.ndarray:
    out = np.empty(shape)
    for first, values in parts:
        out[first : first + len(values)] = values
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resolution", type=int, default=1001)
    parser.add_argument("--plain", type=int, default=201, help="grid of the plain pass")
    args = parser.parse_args()
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = {"hidden_layer_sizes": (32, 16), "max_iter": 200, "random_state": 0}
        classifier = Network.from_estimator(MLPClassifier(**kw).fit(X, y))
        regressor = Network.from_estimator(MLPRegressor(**kw).fit(X, y.astype(float)))
    labels = y.astype(np.float64)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}; breast_cancer 569 rows, 30-32-16-1, relu; "
          f"grid {args.resolution}^2, one BLAS thread, CPU seconds")
    print()
    print("| pair kind | weights | regressor s | classifier s | ratio | classifier before "
          "(plain pass) s | speed-up | largest relative difference from the plain pass |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, axes in PAIRS.items():
        assert plan_pair(classifier, axes).kind == "output_update"
        small = weights_grid(classifier, axes, 1.0, 21)
        _, fast = cpu_seconds(weights_slice_measures(classifier, X, labels, small))
        _, plain = cpu_seconds(plain_measure_rows(classifier, X, labels, small))
        difference = np.max(np.abs(assemble(fast["loss"], small.shape)
                                   / assemble(plain["loss"], small.shape) - 1.0))
        grid = weights_grid(regressor, axes, 1.0, args.resolution)
        reg, _ = cpu_seconds(weights_slice_measures(regressor, X, y.astype(float), grid))
        grid = weights_grid(classifier, axes, 1.0, args.resolution)
        cls, _ = cpu_seconds(weights_slice_measures(classifier, X, labels, grid))
        before_grid = weights_grid(classifier, axes, 1.0, args.plain)
        before, _ = cpu_seconds(plain_measure_rows(classifier, X, labels, before_grid))
        before *= grid.size / before_grid.size
        print(f"| {kind} | {axes[0]}, {axes[1]} | {reg:.3g} | {cls:.3g} | {cls / reg:.1f}× | "
              f"{before:.3g} | {before / cls:.1f}× | {difference:.1e} |", flush=True)
    digits_weight_pairs()


def digits_weight_pairs(resolution: int = 31, plain_resolution: int = 7) -> None:
    """weight_pairs on 5 weights of the 85,002-weight digits classifier [256, 256], whole
    call (its topology included), against the plain pass timed on a smaller grid."""
    from sklearn.datasets import load_digits
    from sklearn.pipeline import make_pipeline

    import sklandscape as sl
    from sklandscape.engine import structured

    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(StandardScaler(), MLPClassifier(
            hidden_layer_sizes=(256, 256), max_iter=30, random_state=0)).fit(X, y)
    axes = ["W1[10,3]", "b1[7]", "W2[5,9]", "b2[100]", "W3[4,2]"]

    def call(res):
        start = time.process_time()
        sl.weight_pairs(model, X, y, axes=axes, resolution=res, progress=False)
        return time.process_time() - start

    class PlainPass:  # what a classifier's slice took before: plain_measure_rows
        def __init__(self, net, X, y, grid, plan):
            self.args = (net, X, y, grid)

        def rows(self, rows, progress):
            return plain_measure_rows(*self.args, rows, progress)

    now = call(resolution)
    output_slice, structured.OutputSlice = structured.OutputSlice, PlainPass
    try:
        before = call(plain_resolution) * resolution**2 / plain_resolution**2
    finally:
        structured.OutputSlice = output_slice
    print()
    print(f"digits MLPClassifier [256, 256] (85,002 weights), weight_pairs on 5 weights (10 "
          f"pairs) at {resolution}^2, whole call: {now:.1f} s CPU; by the plain pass "
          f"(timed at {plain_resolution}^2, scaled per cell): {before:.0f} s; "
          f"{before / now:.1f}x", flush=True)


if __name__ == "__main__":
    main()
