"""Random planes: CPU seconds and page faults per grid point, on scikit-learn's data.

    .venv/bin/python benchmarks/plane_benchmark.py [--compare REF]

One BLAS thread. Networks (standard-scaled inputs, adam, random_state 0):
- diabetes (442 rows) MLPRegressor [64];
- breast_cancer (569 rows) MLPClassifier [32, 16];
- digits (1,797 rows) MLPClassifier [64, 32].
Each: one filter-normalised random plane, 101^2 points, `sl.random_plane` as a user calls
it (topology off), the best of three. Minor page faults are the process' own
(resource.getrusage), per grid point. With --compare REF the same is measured for the git ref
REF (its package imported from a worktree, this environment's libraries), taking turns, and
the CPU ratio REF / this is printed. With --n-jobs, instead: the wall time of one random
plane at 201² on digits [64, 32] with n_jobs=1 and n_jobs=2 (start-up of the workers
included), and whether the tables are the same bits. With --flops: each plane's multiply-adds
per CPU second against numpy's matmul (dgemm) on the same shapes.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES = (("diabetes", "regressor", (64,)), ("breast_cancer", "classifier", (32, 16)),
         ("digits", "classifier", (64, 32)))
RESOLUTION, REPEATS = 101, 3


def fitted(name: str, kind: str, hidden: tuple):
    """A case's network (standard-scaled, adam, random_state 0) and its data."""
    from sklearn import datasets
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    make = MLPRegressor if kind == "regressor" else MLPClassifier
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(StandardScaler(), make(hidden_layer_sizes=hidden,
                                                     random_state=0)).fit(X, y)
    return model, X, y


def measure() -> dict:
    """This package's numbers, one row per case."""
    import sklandscape as sl

    found = {}
    for name, kind, hidden in CASES:
        model, X, y = fitted(name, kind, hidden)
        best = None
        for _ in range(REPEATS):
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            start = time.process_time()
            sl.random_plane(model, X, y, resolution=RESOLUTION, topology=False)
            cpu = time.process_time() - start
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
            if best is None or cpu < best[0]:
                best = (cpu, faults / RESOLUTION**2)
        found[f"{name} {kind} {list(hidden)}"] = best
    return found


def speed_up() -> None:
    """n_jobs=1 against n_jobs=2, taking turns, best of three each."""
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import sklandscape as sl

    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64, 32),
                                                              random_state=0)).fit(X, y)
    walls, tables = {1: [], 2: []}, {}
    for _ in range(REPEATS):
        for n_jobs in (1, 2):
            start = time.perf_counter()
            result = sl.random_plane(model, X, y, resolution=201, topology=False, n_jobs=n_jobs)
            walls[n_jobs].append(time.perf_counter() - start)
            tables[n_jobs] = result.frame
    same = tables[1].equals(tables[2])
    print(f"Machine: {platform.node()}, {os.cpu_count()} CPUs; random plane 201² on digits "
          f"[64, 32], 1,797 rows; wall s, best of {REPEATS}, taking turns.\n")
    print("| n_jobs | wall s |\n|---|---|")
    for n_jobs, values in walls.items():
        print(f"| {n_jobs} | {min(values):.2f} |")
    print(f"\nspeed-up {min(walls[1]) / min(walls[2]):.2f}×; tables the same bits: {same}")


def flops() -> None:
    """Each case's plane as multiply-adds per second, against numpy's matmul (dgemm) on the
    same shapes: the batched per-point products of the layers above the first, and one
    large product of those layers' sizes (the machine's own dgemm rate)."""
    import numpy as np

    import sklandscape as sl

    print(f"Machine: {platform.node()}, {os.cpu_count()} CPUs; one BLAS thread; random plane "
          f"{RESOLUTION}², best of {REPEATS}. A plane's multiply-adds: per point and row, the "
          "first layer's two scalings and sums of its three precomputed products, then every "
          "layer above as a product.\n")
    print("| network | plane GFlop/s | batched matmul GFlop/s, same shapes | one large "
          "dgemm GFlop/s | plane / batched | plane / dgemm |\n|---|---|---|---|---|---|")
    for name, kind, hidden in CASES:
        model, X, y = fitted(name, kind, hidden)
        sizes = sl.Network.from_estimator(model).layer_sizes
        n, points = len(y), RESOLUTION**2
        above = sum(a * b for a, b in zip(sizes[1:-1], sizes[2:]))  # per row, layers 2..L
        flop = 2.0 * points * n * (above + 2 * sizes[1])
        plane = min(_cpu(lambda m=model, a=X, b=y: sl.random_plane(
            m, a, b, resolution=RESOLUTION, topology=False, progress=False))
            for _ in range(REPEATS))
        rng = np.random.default_rng(0)
        batch = 32  # points per product, as a chunk
        pairs = [(rng.standard_normal((batch, n, a)), rng.standard_normal((batch, a, b)))
                 for a, b in zip(sizes[1:-1], sizes[2:])]
        repeats = max(1, points // batch // 8)

        def batched(repeats=repeats, pairs=pairs):
            for _ in range(repeats):
                for left, right in pairs:
                    np.matmul(left, right)

        batched_s = min(_cpu(batched) for _ in range(REPEATS))
        batched_rate = 2.0 * repeats * batch * n * above / batched_s
        big = [(rng.standard_normal((batch * n, a)), rng.standard_normal((a, b)))
               for a, b in zip(sizes[1:-1], sizes[2:])]
        dgemm_s = min(_cpu(lambda big=big, repeats=repeats: [
            left @ right for left, right in big * repeats]) for _ in range(REPEATS))
        dgemm_rate = 2.0 * repeats * batch * n * above / dgemm_s
        rate = flop / plane
        print(f"| {name} {kind} {list(hidden)} | {rate / 1e9:.2f} | {batched_rate / 1e9:.2f} | "
              f"{dgemm_rate / 1e9:.2f} | {rate / batched_rate:.2f} | {rate / dgemm_rate:.2f} |",
              flush=True)


def _cpu(call) -> float:
    start = time.process_time()
    call()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", default="", help="a git ref to measure side by side")
    parser.add_argument("--n-jobs", action="store_true", help="n_jobs=1 against n_jobs=2")
    parser.add_argument("--flops", action="store_true",
                        help="multiply-adds per second against numpy's dgemm, same shapes")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flops:
        flops()
        return
    if args.json:
        print(json.dumps(measure()))
        return
    if args.n_jobs:
        speed_up()
        return
    sides = {"this checkout": str(ROOT / "src")}
    scratch = None
    if args.compare:
        scratch = tempfile.mkdtemp(prefix="plane-benchmark-")
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f",
                        f"{scratch}/ref", args.compare], check=True, capture_output=True)
        sides[args.compare] = f"{scratch}/ref/src"
    results = {side: [] for side in sides}
    try:
        for _ in range(2):  # taking turns, so both see the same machine load
            for side, source in sides.items():
                out = subprocess.run([sys.executable, __file__, "--json"], check=True,
                                     capture_output=True, text=True,
                                     env={**os.environ, "PYTHONPATH": source})
                results[side].append(json.loads(out.stdout))
    finally:
        if scratch:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            f"{scratch}/ref"], capture_output=True)
    print(f"Machine: {platform.node()}, {os.cpu_count()} CPUs; one BLAS thread; random plane "
          f"{RESOLUTION}², best of {REPEATS} x 2 turns.\n")
    head = "| network | " + " | ".join(f"{s}: CPU s | {s}: faults per point" for s in sides)
    print(head + (" | CPU ratio |" if len(sides) > 1 else " |"))
    print("|---" * (1 + 2 * len(sides) + (len(sides) > 1)) + "|")
    for case in results["this checkout"][0]:
        cells, cpus = [], []
        for side in sides:
            cpu = min(run[case][0] for run in results[side])
            faults = min(run[case][1] for run in results[side])
            cpus.append(cpu)
            cells += [f"{cpu:.3f}", f"{faults:.2f}"]
        ratio = f" {cpus[1] / cpus[0]:.2f}× |" if len(cpus) > 1 else ""
        print(f"| {case} | " + " | ".join(cells) + " |" + ratio)


if __name__ == "__main__":
    main()
