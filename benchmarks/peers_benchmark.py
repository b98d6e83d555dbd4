"""sklandscape against loss-landscapes (torch), on the same weights and data, in one run.

    .venv/bin/python benchmarks/peers_benchmark.py [--peer-python PATH] [--quick]

The peer side is optional: PATH is a Python with torch and loss-landscapes, run as a
subprocess (benchmarks/peer_loss_landscapes.py), so torch never enters this environment.
On Debian 12, for example:

    apt-get install python3-torch python3-venv
    python3 -m venv --system-site-packages /tmp/peer
    /tmp/peer/bin/pip install loss-landscapes

Networks (standard-scaled inputs, adam, random_state 0): breast_cancer [32, 16] as a
classifier and as a regressor (on the 0/1 label), diabetes [64], digits [64, 32] and digits
[256, 256] (85,002 weights, 100 epochs). Both sides use float64 and one thread, and are
timed in CPU seconds (user + system) of the whole call:
- a filter-normalised random plane, `sl.random_plane` (topology off, as the peer has none)
  against `loss_landscapes.random_plane`, at 51² and 101² (51² only at 85k weights);
- the five pair kinds of breast_cancer [32, 16] at 1001², `sl.weights`, against the peer's
  cost per grid point times 1001²: the peer evaluates a pair of weights as it evaluates a
  plane, one forward pass per point (planar_interpolation), so its 51² plane gives that cost;
- `sl.weight_pairs` on 5 weights at 31² at 85k weights (10 pairs, 9,610 points), against the
  peer's per-point cost times 9,610.
Each side first draws one 3² plane, untimed: imports and first-call set-up are paid once per
session, not per landscape. Before timing, the peer's loss at the trained weights is checked against scikit-learn's.
Prints Markdown tables for docs/engine.md, the machine named.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn import datasets  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import sklandscape as sl  # noqa: E402

HERE = Path(__file__).resolve().parent
NETWORKS = {  # label -> (dataset, estimator, hidden, epochs)
    "breast_cancer [32, 16] classifier": ("breast_cancer", MLPClassifier, (32, 16), 200),
    "breast_cancer [32, 16] regressor": ("breast_cancer", MLPRegressor, (32, 16), 200),
    "diabetes [64] regressor": ("diabetes", MLPRegressor, (64,), 200),
    "digits [64, 32] classifier": ("digits", MLPClassifier, (64, 32), 200),
    "digits [256, 256] classifier": ("digits", MLPClassifier, (256, 256), 100),
}
LARGE = "digits [256, 256] classifier"
PAIRS = {  # a pair of each of the regressor engine's kinds in a 30-32-16-1 network
    "output-layer pair": ("W3[4,0]", "b3[0]"),
    "output quadratic": ("W2[3,5]", "W3[5,0]"),
    "separable": ("W2[0,1]", "W2[1,2]"),
    "one unit": ("W2[0,1]", "W2[3,1]"),
    "rank update": ("W1[0,0]", "W1[1,3]"),
}
LARGE_WEIGHTS = ["W1[10,0]", "W1[20,5]", "W2[0,0]", "W2[100,7]", "W3[3,2]"]


def fitted(label: str):
    name, make, hidden, epochs = NETWORKS[label]
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make(hidden_layer_sizes=hidden, max_iter=epochs, random_state=0).fit(X, y)
    return model, X, y


def sklearn_loss(model, X, y) -> float:
    if isinstance(model, MLPClassifier):
        return log_loss(y, model.predict_proba(X))
    return 0.5 * float(np.mean((model.predict(X) - y) ** 2))


def cpu(call) -> float:
    start = time.process_time()
    call()
    return time.process_time() - start


def plane_seconds(model, X, y, resolution: int) -> float:
    return cpu(lambda: sl.random_plane(model, X, y, resolution=resolution, topology=False,
                                       progress=False))


def save_case(model, X, y, path: Path) -> None:
    arrays = {f"coef_{k}": w for k, w in enumerate(model.coefs_)}
    arrays |= {f"intercept_{k}": b for k, b in enumerate(model.intercepts_)}
    if isinstance(model, MLPRegressor):
        loss = "squared_error"
    else:
        loss = "binary" if len(model.classes_) == 2 else "multiclass"
        y = np.searchsorted(model.classes_, y)
    np.savez(path, n_layers=len(model.coefs_), activation=model.activation, loss=loss, X=X,
             y=y, **arrays)


def peer(python: str, cases: dict) -> dict:
    out = subprocess.run([python, str(HERE / "peer_loss_landscapes.py"), json.dumps(cases)],
                         check=True, capture_output=True, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    return json.loads(out.stdout)


def resolutions(label: str, quick: bool) -> tuple[int, ...]:
    return (21,) if quick else (51,) if label == LARGE else (51, 101)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", default=os.environ.get("PEER_PYTHON", ""),
                        help="a Python with torch and loss-landscapes (optional)")
    parser.add_argument("--quick", action="store_true",
                        help="small grids, to try the benchmark itself")
    args = parser.parse_args()
    grid = 101 if args.quick else 1001
    fits = {label: fitted(label) for label in NETWORKS}
    ours, theirs, versions = {}, {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        paths = {}
        for label, (model, X, y) in fits.items():
            paths[label] = str(Path(scratch) / f"{len(paths)}.npz")
            save_case(model, X, y, Path(paths[label]))
        if args.peer_python:
            found = peer(args.peer_python, {paths[label]: resolutions(label, args.quick)
                                            for label in NETWORKS})
            versions = found.pop("versions")
            for label, (model, X, y) in fits.items():
                row = found[paths[label]]
                expected = sklearn_loss(model, X, y)
                # the peer's log-loss is unclipped: equal to ~1e-12 unless a probability
                # reaches the clip; its MSE the same formula in torch
                if not np.isclose(row["center_loss"], expected, rtol=1e-6, atol=1e-12):
                    raise SystemExit(f"{label}: the peer's loss {row['center_loss']!r} is not "
                                     f"scikit-learn's {expected!r}: not the same network")
                theirs[label] = {int(k): v for k, v in row["seconds"].items()}
    plane_seconds(*fits[LARGE], 3)  # once: the lazy imports, as the peer's warm-up
    for label, (model, X, y) in fits.items():
        ours[label] = {r: plane_seconds(model, X, y, r) for r in resolutions(label, args.quick)}
        print(f"# {label}: planes {ours[label]}", flush=True)
    pairs = {}
    for label in ("breast_cancer [32, 16] regressor", "breast_cancer [32, 16] classifier"):
        model, X, y = fits[label]
        for kind, axes in PAIRS.items():
            pairs[label, kind] = cpu(lambda m=model, a=X, b=y, ax=axes: sl.weights(
                m, a, b, axes=ax, span=1.0, resolution=grid, topology=False, progress=False))
            print(f"# {label} {kind}: {pairs[label, kind]:.2f}", flush=True)
    model, X, y = fits[LARGE]
    large_pairs = cpu(lambda: sl.weight_pairs(model, X, y, axes=LARGE_WEIGHTS, resolution=31,
                                              topology=False, progress=False))
    report(fits, ours, theirs, pairs, large_pairs, versions, grid, args.quick)


def per_point(theirs: dict, label: str) -> float | None:
    if label not in theirs:
        return None
    resolution = min(theirs[label])
    return theirs[label][resolution] / resolution**2


def report(fits, ours, theirs, pairs, large_pairs, versions, grid, quick) -> None:
    peer_name = (f"loss-landscapes {versions['loss-landscapes']}, torch {versions['torch']}"
                 if versions else "no peer (run with --peer-python)")
    print(f"\nMachine: {platform.node()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"{platform.python_version()}; one thread each side; peer: {peer_name}"
          f"{'; --quick' if quick else ''}.\n")
    print("Random planes, CPU s of the whole call:\n")
    print("| network | weights | grid | sklandscape | peer | sklandscape / peer |\n"
          "|---|---|---|---|---|---|")
    for label, rows in ours.items():
        size = sl.Network.from_estimator(fits[label][0]).flat.size
        for resolution, seconds in rows.items():
            other = theirs.get(label, {}).get(resolution)
            ratio = f"{seconds / other:.2f}" if other else "–"
            shown = f"{other:.2f}" if other else "–"
            print(f"| {label} | {size:,} | {resolution}² | {seconds:.2f} | {shown} | {ratio} |")
    print(f"\nWeight pairs at {grid}², breast_cancer [32, 16], CPU s; the peer's per-point "
          "cost from its 51² plane, times the points:\n")
    print("| pair kind | regressor | classifier | classifier / regressor | peer, classifier "
          "| classifier / peer |\n|---|---|---|---|---|---|")
    cost = per_point(theirs, "breast_cancer [32, 16] classifier")
    for kind in PAIRS:
        regressor = pairs["breast_cancer [32, 16] regressor", kind]
        classifier = pairs["breast_cancer [32, 16] classifier", kind]
        peer_s = cost * grid**2 if cost else None
        print(f"| {kind} | {regressor:.2f} | {classifier:.2f} | {classifier / regressor:.0f} | "
              f"{f'{peer_s:.0f}' if peer_s else '–'} | "
              f"{f'{classifier / peer_s:.3f}' if peer_s else '–'} |")
    cost = per_point(theirs, LARGE)
    peer_s = cost * 10 * 31**2 if cost else None
    print(f"\nweight_pairs on 5 weights at 31² (10 pairs), {LARGE}: {large_pairs:.1f} CPU s"
          + (f"; the peer, per point × 9,610: {peer_s:.0f} s ({large_pairs / peer_s:.3f}×)"
             if peer_s else ""))


if __name__ == "__main__":
    main()
