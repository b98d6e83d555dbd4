"""The whole curvature analysis at 85,002 weights against the sum of its spectral parts.

    .venv/bin/python benchmarks/curvature_scale.py

The network: digits (all 1,797 rows, standard-scaled), MLPClassifier [256, 256], relu, adam
for 100 epochs (85,002 weights). One BLAS thread, CPU seconds (user + sys) of this process,
so the ratio holds on a loaded machine. Side by side in one run:
- the parts: the top 5 eigenpairs (Lanczos), the trace (exact for relu), the density
  (stochastic Lanczos quadrature, 4 x 80), each on a fresh operator;
- the bottom 5 eigenpairs to 1e-4 lambda_max: from a random block (block Lanczos), and as
  the analysis finds them, going on from the density's Lanczos runs (only the products
  added to theirs);
- the whole `sl.curvature` call (spectrum, sharpness, eigen-cuts, the slice's maps).
Prints a Markdown table for docs/curvature.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import platform  # noqa: E402
import warnings  # noqa: E402

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import sklandscape as sl  # noqa: E402
from sklandscape.analyses.sharpness import NEGATIVE_RESOLUTION  # noqa: E402
from sklandscape.analyses.spectrum import (  # noqa: E402
    HessianOperator,
    bottom_eigenpairs,
    exact_trace,
    extreme_eigenpairs,
    stochastic_lanczos_quadrature,
)
from sklandscape.model.network import Network  # noqa: E402


def cpu() -> float:
    times = os.times()
    return times.user + times.system


def timed(work, net, X, y):
    op = HessianOperator(net, X, y)
    start = cpu()
    found = work(op)
    return found, cpu() - start, op.products


def main() -> None:
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=100,
                              random_state=0).fit(X, y)
    net = Network.from_estimator(model)
    rows = []
    top, seconds, products = timed(lambda op: extreme_eigenpairs(op, 5, "LA", 0), net, X, y)
    rows.append(("top 5 eigenpairs", seconds, products))
    _, seconds, products = timed(exact_trace, net, X, y)
    rows.append(("trace (exact, relu)", seconds, products))
    _, seconds, products = timed(lambda op: stochastic_lanczos_quadrature(op, 4, 80, 3),
                                 net, X, y)
    rows.append(("density (SLQ 4 x 80)", seconds, products))
    parts = sum(row[1] for row in rows)
    resolution = NEGATIVE_RESOLUTION * top.values[-1]
    bottom, seconds, products = timed(
        lambda op: bottom_eigenpairs(op, 5, resolution, 1, 1000), net, X, y)
    rows.append(("bottom 5 to 1e-4 lambda_max, from a random block", seconds, products))
    op = HessianOperator(net, X, y)
    _, krylov = stochastic_lanczos_quadrature(op, 4, 80, 3, subspace=True)
    before, start = op.products, cpu()
    again = bottom_eigenpairs(op, 5, resolution, 1, 1000, start=krylov)
    rows.append(("bottom 5, going on from the density's Lanczos runs (added)", cpu() - start,
                 op.products - before))
    assert abs(again.values - bottom.values).max() <= resolution, (again.values, bottom.values)
    axes = ("W1[0,0]", "W3[0,0]")
    plane = sl.weights(model, X, y, axes=axes, span=0.1, resolution=5, progress=False)
    start = cpu()
    result = sl.curvature(model, X, y, plane, progress=False)
    whole = cpu() - start
    rows.append(("whole `sl.curvature` call", whole, int(result.metrics["hessian_products"])))
    print(f"Machine: {platform.node()}, {os.cpu_count()} CPUs; one BLAS thread; "
          f"{len(net.flat):,} weights, lambda_max {top.values[-1]:.4g}, smallest "
          f"{bottom.values[0]:.4g} ± {resolution:.2g}.\n")
    print("| part | CPU s | Hessian-vector products |\n|---|---|---|")
    for label, seconds, products in rows:
        print(f"| {label} | {seconds:.1f} | {products} |")
    print(f"\nwhole / (top + trace + density) = {whole / parts:.2f}")
    print(f"verdict: {result.tags['verdict']}")


if __name__ == "__main__":
    main()
