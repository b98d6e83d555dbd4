"""How fast the landscape engine is, against (a) naive predict, (b) the plain batched pass,
(c) the activation bound; and how much memory a large landscape job takes.

    .venv/bin/python benchmarks/landscape_benchmark.py          # from the repository root

Uses the networks of the default config (results/models/*, else trained here the same
way). Everything runs single-threaded, as a Snakemake job with `threads: 1` does. The
last line is the headline: N1, all 21 pairs of weights, 201 x 201, all 200 samples.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from sklandscape import io  # noqa: E402
from sklandscape.data.datasets import generate, generating_function, split_xy  # noqa: E402
from sklandscape.engine.landscape import (  # noqa: E402
    input_bounds,
    input_grid,
    input_rows,
    plain_rows,
    weights_grid,
)
from sklandscape.engine.structured import plan_pair, weights_slice_rows  # noqa: E402
from sklandscape.model.network import ACTIVATIONS, Network, parameter_layer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# N2: one pair per class (one_unit: two inputs of a unit, and a deeper weight with the
# unit's bias (exp-factored) or with one of its input weights (direct); rank_update: two
# units of layer 1, and one)
N2_PAIRS = [("W3[2,0]", "b3[0]"), ("W1[0,3]", "W3[4,0]"), ("W2[1,2]", "W2[4,7]"),
            ("W2[1,2]", "b2[2]"), ("W1[0,3]", "b2[5]"), ("W1[0,3]", "W2[3,5]"),
            ("W1[0,3]", "W1[1,7]"), ("W1[0,3]", "b1[3]")]
NAIVE_POINTS = 60  # grid points per pair timed for the naive baseline (then scaled)
SUBSET_ROWS = 16  # rows timed where a full pass would take minutes (then scaled)


# --- the networks and data of the default config --------------------------------------


def load_case(name: str, config: dict):
    """(model, Network, X, y) for a network of the config: the pipeline's, else trained here."""
    settings = dict(config["networks"][name])
    dataset = settings.pop("dataset")
    data_path = ROOT / "results" / "data" / f"{dataset}.parquet"
    model_path = ROOT / "results" / "models" / name / "model.skops"
    frame = io.read_table(data_path)[0] if data_path.exists() else generate(**config["datasets"][dataset])
    X, y = split_xy(frame)
    if model_path.exists():
        model, source = io.read_model(model_path), "results/ (the pipeline's)"
    else:
        from sklandscape.model.training import fit_mlp

        model, source = fit_mlp(X, y, settings).model, "trained here like the pipeline"
    print(f"# {name}: {list(Network.from_estimator(model).layer_sizes)}, {len(y)} samples, {source}")
    return model, Network.from_estimator(model), X, y


# --- timing ---------------------------------------------------------------------------


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def drain(iterator) -> None:
    for _ in iterator:
        pass


def engine_seconds(net, X, y, grid, rows=None) -> float:
    return best_of(lambda: drain(weights_slice_rows(net, X, y, grid, rows)), 1 if grid.size > 1e6 else 3)


def plain_seconds(net, X, y, grid, full: bool) -> tuple[float, bool]:
    """The plain batched pass: whole grid, or SUBSET_ROWS rows scaled to the grid."""
    if full:
        return best_of(lambda: drain(plain_rows(net, X, y, grid)), 1), False
    rows = range(SUBSET_ROWS)
    seconds = best_of(lambda: drain(plain_rows(net, X, y, grid, rows)), 1)
    return seconds * grid.shape[0] / SUBSET_ROWS, True


def naive_seconds(model, net, X, y, grid, rng) -> float:
    """Set the two weights on the MLPRegressor and call predict, per grid point (scaled)."""
    coefs = [c.copy() for c in model.coefs_]
    intercepts = [b.copy() for b in model.intercepts_]
    model.coefs_, model.intercepts_ = coefs, intercepts
    places = []
    for name in grid.names:
        kind, layer, i, j = _parse(name)
        places.append((coefs[layer - 1], (i, j)) if kind == "weight" else (intercepts[layer - 1], (j,)))
    points = grid.points()[rng.choice(grid.size, size=NAIVE_POINTS, replace=False)]
    started = time.perf_counter()
    for a, b in points:
        places[0][0][places[0][1]] = a
        places[1][0][places[1][1]] = b
        np.mean((model.predict(X) - y) ** 2)
    return (time.perf_counter() - started) * grid.size / NAIVE_POINTS


def _parse(name):
    from sklandscape.model.network import parse_parameter_name

    return parse_parameter_name(name)


class ActivationBound:
    """Seconds numpy needs to apply the activation to a number of values, measured."""

    def __init__(self, net: Network, X):
        from sklandscape.engine.moves import centre_state

        state = centre_state(net, X, np.zeros(len(X)))
        realistic = np.concatenate([z.ravel() for z in state.pre[1:]])
        self.values = np.resize(realistic, 1 << 20)  # pre-activations of the trained network
        self.out = np.empty_like(self.values)
        self.activate = {"tanh": lambda v, o: np.tanh(v, out=o)}.get(
            net.activation, lambda v, o: np.copyto(o, ACTIVATIONS[net.activation](v)))
        self.rate = self.seconds(1 << 27) / (1 << 27)

    def seconds(self, count: int) -> float:
        count, done = int(count), 0
        started = time.perf_counter()
        while done < count:
            step = min(count - done, self.values.size)
            self.activate(self.values[:step], self.out[:step])
            done += step
        return time.perf_counter() - started

    def bound(self, count: int) -> float:
        """Measured outright up to 5e8 values, else the measured rate times the count."""
        if count == 0:
            return 0.0
        return self.seconds(count) if count <= 5e8 else self.rate * count


def recomputed_units(net: Network, axes) -> int:
    """Hidden units per (grid point, sample) that the plain pass recomputes."""
    lowest = min(parameter_layer(a) for a in axes)
    return sum(net.layer_sizes[lowest:-1])


# --- one row of the table -------------------------------------------------------------


def measure_pair(model, net, X, y, axes, resolution, bound: ActivationBound, rng, full_plain) -> dict:
    """Seconds of ours, naive, batched and the activation bound for one pair of weights."""
    grid = weights_grid(net, axes, span=3.0, resolution=resolution)
    kind = plan_pair(net, axes).kind
    # paths that recompute whole layers per cell: time a band of rows at large sizes
    heavy = kind in ("rank_update", "plain") and grid.size * len(y) > 2e8
    if heavy:
        ours = engine_seconds(net, X, y, grid, range(SUBSET_ROWS)) * resolution / SUBSET_ROWS
    else:
        ours = engine_seconds(net, X, y, grid)
    plain, plain_scaled = plain_seconds(net, X, y, grid, full_plain)
    return {"kind": kind, "ours": ours, "ours_scaled": heavy, "plain": plain,
            "plain_scaled": plain_scaled, "naive": naive_seconds(model, net, X, y, grid, rng),
            "bound": bound.bound(grid.size * len(y) * recomputed_units(net, axes)),
            "cells": grid.size * len(y)}


def report(label, results, resolution, n_samples) -> dict:
    """One table row: the pairs' seconds summed."""
    total = {key: sum(r[key] for r in results) for key in ("ours", "plain", "naive", "bound", "cells")}
    notes = [n for n, key in [("ours scaled from rows", "ours_scaled"),
                              ("batched scaled from rows", "plain_scaled")]
             if any(r[key] for r in results)]
    row = {
        "case": label, "grid": f"{resolution}^2", "pairs": len(results), "samples": n_samples,
        "ours_s": total["ours"], "ns_per_cell": total["ours"] / total["cells"] * 1e9,
        "naive_s": total["naive"], "batched_s": total["plain"], "bound_s": total["bound"],
        "vs_naive": total["naive"] / total["ours"], "vs_batched": total["plain"] / total["ours"],
        "to_bound": total["ours"] / total["bound"] if total["bound"] else float("nan"),
        "note": ", ".join(notes),
    }
    print_row(row)
    return row


def n1_rows(n1, resolution, bound, rng, full_plain) -> dict:
    """N1: all 21 pairs, then the same pairs by class; returns the all-pairs row."""
    pairs = list(itertools.combinations(n1[1].names, 2))
    results = [measure_pair(*n1, axes, resolution, bound, rng, full_plain) for axes in pairs]
    headline = report("N1 all pairs", results, resolution, len(n1[3]))
    for kind in sorted({r["kind"] for r in results}):
        report(f"N1 {kind}", [r for r in results if r["kind"] == kind], resolution, len(n1[3]))
    return headline


COLUMNS = ["case", "grid", "pairs", "samples", "ours_s", "ns_per_cell", "naive_s", "batched_s",
           "bound_s", "vs_naive", "vs_batched", "to_bound", "note"]


def print_header():
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))


def print_row(row):
    def fmt(v):
        if isinstance(v, float):
            return "-" if np.isnan(v) else f"{v:.3g}"
        return str(v)

    print("| " + " | ".join(fmt(row[c]) for c in COLUMNS) + " |", flush=True)


def input_row(model, net, bound, resolution, rng):
    bounds = input_bounds(np.zeros((1, 2)), 0.5, [(-3.0, 3.0), (-3.0, 3.0)])
    grid = input_grid(bounds, resolution)
    target = generating_function("waves_with_spike")
    ours = best_of(lambda: drain(input_rows(net, grid, target)), 3 if resolution < 1000 else 1)
    points = grid.points()
    sample = points[rng.choice(grid.size, size=NAIVE_POINTS * 5, replace=False)]
    started = time.perf_counter()
    for p in sample:
        model.predict(p[None, :])
    naive = (time.perf_counter() - started) * grid.size / len(sample)
    batched = best_of(lambda: model.predict(points), 1)  # sklearn, all points in one call
    act = bound.bound(grid.size * sum(net.layer_sizes[1:-1]))
    print_row({"case": "N2 input", "grid": f"{resolution}^2", "pairs": "-", "samples": 1,
               "ours_s": ours, "ns_per_cell": ours / grid.size * 1e9, "naive_s": naive,
               "batched_s": batched, "bound_s": act, "vs_naive": naive / ours,
               "vs_batched": batched / ours, "to_bound": ours / act,
               "note": "batched = sklearn predict, all points in one call"})


# --- peak memory of a landscape job, in a child process -------------------------------


def rss_child(case: str, workdir: str) -> None:
    """Run one landscape stage as a job would (mlflow imported too) and exit."""
    import sklandscape.pipeline.tracking.logger  # noqa: F401  (a pipeline job has it loaded)
    from sklandscape.pipeline.stages import landscapes

    name, kind, resolution, samples, rows = case.split(":")
    work = Path(workdir)
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    network = "N1" if name.startswith("N1") else "N2"
    settings = config["networks"][network]
    data = work / f"{network}-{samples}.parquet"
    weights = work / f"{network}.weights.parquet"  # written by the parent
    dataset = dict(config["datasets"][settings["dataset"]])
    if samples != "default":
        dataset |= {"n_samples": int(samples), "sampling": "uniform"}
    io.write_table(generate(**dataset), data, {"dataset": dataset})
    tile = None
    if rows != "all":
        tile = (0, int(resolution) // int(rows))
    out = work / f"{case.replace(':', '_')}.parquet"
    if kind == "input_space":
        spec = {"network": network, "kind": "input_space", "resolution": int(resolution), "margin": 0.5}
        landscapes.input_space_landscape(weights, data, out, spec, dataset["function"], "-", tile)
    else:
        spec = {"network": network, "kind": "weights", "axes": kind.split("/"), "span": 3.0,
                "resolution": int(resolution), "samples": "all"}
        landscapes.weights_landscape(weights, data, out, spec, "-", tile)
    print(own_peak_rss_mb())


def own_peak_rss_mb() -> float:
    """This process's peak RSS since its exec (VmHWM). getrusage's ru_maxrss of a child
    also counts the parent's pages that the child held between fork and exec."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def peak_rss(case: str, workdir) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of a child running one landscape stage."""
    started = time.perf_counter()
    child = subprocess.run([sys.executable, __file__, "--rss-child", case, str(workdir)],
                           capture_output=True, text=True, check=True)
    return float(child.stdout.split()[-1]), time.perf_counter() - started


def baseline_rss() -> float:
    code = ("import sklandscape.pipeline.tracking.logger, sklandscape.pipeline.stages, runpy; "
            f"print(runpy.run_path({__file__!r}, run_name='x')['own_peak_rss_mb']())")
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(child.stdout.split()[-1])


# --- main -----------------------------------------------------------------------------


def memory(n1, n2) -> float:
    print(f"\n# peak RSS (VmHWM) of one landscape stage in a child process that also imports "
          f"mlflow, as a job does (imports alone: {baseline_rss():.0f} MB)")
    print("| case | peak RSS MB | seconds |")
    print("|---|---|---|")
    cases = ["N1:W1[0,0]/b1[0]:2001:default:all", "N1:W1[0,0]/W1[0,1]:2001:default:all",
             "N1:W1[0,0]/W2[0,0]:2001:default:all", "N2:input:2001:default:all",
             "N2:W1[0,3]/W2[3,5]:2001:default:16", "N2:W1[0,3]/W1[1,7]:2001:default:16",
             "N1:W1[0,0]/W2[0,0]:2001:100000:all", "N1:W1[0,0]/W1[0,1]:2001:100000:40",
             "N1:W1[0,0]/b1[0]:2001:100000:8"]
    with tempfile.TemporaryDirectory() as workdir:
        for name, case in (("N1", n1), ("N2", n2)):
            io.write_weights(case[1], Path(workdir) / f"{name}.weights.parquet")
        peaks = []
        for case in cases:
            rss, seconds = peak_rss(case, workdir)
            peaks.append(rss)
            print(f"| {case} | {rss:.0f} | {seconds:.1f} |", flush=True)
    print("# case = network:axes or input:resolution:samples (default = the config's):rows "
          "(all, or a tile of about that many rows)")
    return max(peaks)


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), platform.processor())
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, numpy {np.__version__}, load average {load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rss-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--skip-memory", action="store_true", help="no peak-RSS measurements")
    parser.add_argument("--memory-only", action="store_true", help="only the peak-RSS measurements")
    args = parser.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return
    started = time.perf_counter()
    print(f"# machine: {machine()}")
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    n1 = load_case("N1", config)
    n2 = load_case("N2", config)
    rng = np.random.default_rng(0)
    bound = ActivationBound(n1[1], n1[2])
    print(f"# activation bound: numpy {n1[1].activation} at {bound.rate * 1e9:.2f} ns per value")
    print("# seconds are wall time, single-threaded; *_s summed over the pairs; ns_per_cell = "
          "ours_s / (grid points x samples x pairs)")
    if args.memory_only:
        memory(n1, n2)
        return
    print_header()
    headline = n1_rows(n1, 201, bound, rng, full_plain=True)
    fine = n1_rows(n1, 1001, bound, rng, full_plain=False)
    for resolution in (201, 1001):
        for axes in N2_PAIRS:
            result = measure_pair(*n2, axes, resolution, bound, rng, full_plain=False)
            report(f"N2 {result['kind']} {axes[0]} x {axes[1]}", [result], resolution, len(n2[3]))
        input_row(n2[0], n2[1], bound, resolution, rng)
    peak = memory(n1, n2) if not args.skip_memory else float("nan")
    print(f"# targets: N1 all pairs 201^2 vs naive >= 100x: {headline['vs_naive']:.0f}x; "
          f"ratio to activation bound < 1: {headline['to_bound']:.3f}; N1 21 pairs 1001^2 < 3 s: "
          f"{fine['ours_s']:.2f} s; peak RSS at 2001^2 < 500 MB: {peak:.0f} MB")
    print(f"# benchmark took {time.perf_counter() - started:.0f} s; load average now "
          + " ".join(f"{v:.2f}" for v in os.getloadavg()))
    print(f"speedup_vs_naive={headline['vs_naive']:.1f} speedup_vs_batched={headline['vs_batched']:.1f} "
          f"ratio_to_activation_bound={headline['to_bound']:.3f}")


if __name__ == "__main__":
    main()
