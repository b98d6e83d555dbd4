"""How long each figure of the default pipeline takes to draw and save, in-process.

    .venv/bin/python benchmarks/figure_timing.py [--results DIR] [--repeats 3] [--compare REF]

Inputs: the tables of a pipeline run on config/config.yaml. Without --results the pipeline
is run once in a scratch directory first (a few minutes); --results reuses a run's
`results/` directory. Every figure-producing function of src/sklandscape is then called on
those tables and timed (wall and CPU seconds, median of --repeats), output PNG/GIF to a
scratch directory: the file-in/file-out figure stages of pipeline/figure_stages.py, the
analyses' figures of api/analysis_plots.py as their jobs call them, and the drawing functions of
directions_plots.py plus landscapes_plots.save_figure as the landscape jobs of kinds weight_pairs,
random_plane, interpolation and trajectory_pca call them after their computation.

--compare REF checks REF out (a detached git worktree) and times its src/sklandscape against
this checkout's on the same inputs, figure by figure in alternation, so both sides see the
same machine load. Only entry points whose names and signatures both sides share are called.
The load average is printed before and after: other processes inflate wall time far more
than CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


# ----------------------------------------------------------------------------- the figures
def figure_catalogue(results: Path, out: Path) -> dict:
    """name -> a call that draws and saves that figure under `out`; inputs read once here."""
    import numpy as np

    from sklandscape import io
    from sklandscape.api.analysis_plots import (
        CURVATURE_FIGURES,
        attack_figure,
        curvature_figure,
        optimizer_animation,
        optimizer_figure,
    )
    from sklandscape.figures import directions as directions_plots
    from sklandscape.figures import landscapes as landscapes_plots
    from sklandscape.figures import planes as planes_plots
    from sklandscape.figures.drawing import save_figure
    from sklandscape.model.network import parameter_names
    from sklandscape.pipeline.stages import figures

    R = results
    catalogue = {}

    def data(name):
        return R / "data" / f"{name}.parquet"

    datasets = {"sine_curve": "sine", "spiky_surface": "waves_with_spike"}
    networks = {"N1": "sine_curve", "N2": "spiky_surface"}
    for name, function in datasets.items():
        catalogue[f"dataset_{name}"] = lambda n=name, f=function: figures.dataset_figure(
            data(n), f, out / f"dataset_{n}.png")
    for net, dataset in networks.items():
        weights = R / "models" / net / "weights.parquet"
        catalogue[f"network_{net}"] = lambda w=weights, n=net: figures.network_figure(
            w, out / f"network_{n}.png")
        catalogue[f"fit_{net}"] = lambda w=weights, d=dataset, n=net: figures.fit_figure(
            w, data(d), datasets[d], out / f"fit_{n}.png")
    for name, dataset in (("N2_input", "spiky_surface"), ("N1_one_point", "sine_curve"),
                          ("N1_all_points", "sine_curve")):
        catalogue[f"landscape_{name}"] = lambda n=name, d=dataset: figures.landscape_figure(
            R / "landscapes" / f"{n}.parquet", data(d), out / f"landscape_{n}.png")

    A = R / "analyses"
    for name in ("N1_curvature_one_point", "N1_curvature_all_points"):
        read = {t: io.read_table(A / name / f"{t}.parquet")
                for t in ("hessian", "hessian_matrix", "spectrum", "eigen_cuts", "curvature_map")}
        tables = {t: frame for t, (frame, _) in read.items()}
        metas = {t: meta for t, (_, meta) in read.items()}
        for which in CURVATURE_FIGURES:
            catalogue[f"{which}_{name}"] = (
                lambda w=which, t=tables, m=metas, n=name: save_figure(
                    curvature_figure(w, t, m, n), out / f"{w}_{n}.png"))
    opt = A / "N1_optimizers_one_point"
    runs, _ = io.read_table(opt / "optimizer_runs.parquet")
    opt_paths, opt_meta = io.read_table(opt / "optimizer_paths.parquet")
    one_point, _ = io.read_table(R / "landscapes" / "N1_one_point.parquet")
    opt_inputs = (runs, opt_paths, opt_meta, one_point, "N1_optimizers_one_point")
    catalogue["optimizers_N1_optimizers_one_point.png"] = lambda: save_figure(
        optimizer_figure(*opt_inputs), out / "optimizers.png")
    catalogue["optimizers_N1_optimizers_one_point.gif"] = lambda: optimizer_animation(
        *opt_inputs, out / "optimizers.gif")
    attack = A / "N2_input_attack"
    attack_tables = [io.read_table(attack / f"{t}.parquet")[0]
                     for t in ("worst_inputs", "ascent", "ascent_paths", "gradient_field")]
    attack_meta = io.read_metadata(attack / "worst_inputs.parquet")
    n2_input, _ = io.read_table(R / "landscapes" / "N2_input.parquet")
    catalogue["attack_N2_input_attack"] = lambda: save_figure(attack_figure(
        n2_input, attack_tables[0], attack_meta, *attack_tables[1:], "N2_input_attack"),
        out / "attack.png")

    # The landscape jobs of the direction kinds draw from what they just computed: here
    # the same arrays are rebuilt from their tables once, outside the timing.
    L = R / "landscapes"
    # as long as these figures' real titles (~250 characters), so they wrap the same
    long_title = ("N1_pairs_all_points: MSE of N1 on all 200 data points, for 21 pairs of its "
                  "7 weights (each ±3 around its trained value); in each panel the other 5 "
                  "weights are held at their trained values")
    for name in ("N1_pairs_one_point", "N1_pairs_all_points", "N2_pairs"):
        table, meta = io.read_table(L / f"{name}.parquet")
        involved = {n for pair in meta["pairs"] for n in pair}
        names = [n for n in parameter_names(meta["network"]["layer_sizes"]) if n in involved]
        catalogue[f"landscape_{name} (corner plot)"] = (
            lambda t=table, ns=names, c=meta["centre"], n=name: landscapes_plots.save_figure(
                directions_plots.corner_plot(t, ns, c, title=long_title),
                out / f"landscape_{n}.png"))
    for name in ("N1_random_plane", "N2_random_plane"):
        table, meta = io.read_table(L / f"{name}.parquet")
        stats, _ = io.read_table(L / f"{name}.stats.parquet")
        a, b = np.unique(table["a"]), np.unique(table["b"])
        planes = {int(seed): rows["loss"].to_numpy(float).reshape(a.size, b.size)
                  for seed, rows in table.groupby("seed", sort=True)}
        first = next(iter(planes))
        catalogue[f"landscape_{name}"] = (
            lambda a=a, b=b, p=planes[first], c=meta["centre"]["loss"], n=name:
            landscapes_plots.save_figure(planes_plots.random_plane_figure(a, b, p, c, title=long_title),
                              out / f"landscape_{n}.png"))
        catalogue[f"seed_spread_{name}"] = (
            lambda a=a, b=b, p=planes, s=stats, n=name: landscapes_plots.save_figure(
                planes_plots.seed_spread_figure(
                    a, b, p, s, ("loss_min", "loss_max", "loss_mean", "loss_median", "drop",
                                 "range_a", "range_b", "anisotropy", "cosine_d1_d2"),
                    title=long_title), out / f"seed_spread_{n}.png"))
    for name in ("N1_interpolation", "N2_interpolation"):
        table, meta = io.read_table(L / f"{name}.parquet")
        alphas, loss = table["alpha"].to_numpy(float), table["loss"].to_numpy(float)
        initial = float(loss[np.argmin(np.abs(alphas))])
        trained = float(meta["centre"]["loss"])
        shape = {"monotone_between": 0.0, "max_rise_between": 0.1, "barrier": 0.1}
        catalogue[f"landscape_{name}"] = (
            lambda al=alphas, lo=loss, i=initial, t=trained, s=shape, n=name: landscapes_plots.save_figure(
                directions_plots.interpolation_figure(al, lo, i, t, s, title=long_title),
                out / f"landscape_{n}.png"))
    for name in ("N1_trajectory_pca", "N2_trajectory_pca"):
        table, meta = io.read_table(L / f"{name}.parquet")
        path, _ = io.read_table(L / f"{name}.path.parquet")
        a, b = np.unique(table["a"]), np.unique(table["b"])
        loss = table.sort_values(["a", "b"])["loss"].to_numpy(float).reshape(a.size, b.size)
        explained = np.asarray(meta["explained"], float)
        catalogue[f"landscape_{name}"] = (
            lambda a=a, b=b, lo=loss, p=path, e=explained, n=name: landscapes_plots.save_figure(
                directions_plots.trajectory_pca_figure(a, b, lo, p, e, title=long_title),
                out / f"landscape_{n}.png"))
    return catalogue


def time_call(call) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def worker(results: Path, out: Path) -> None:
    """Answer each figure name read from stdin with one JSON line of its wall and CPU s."""
    import sklandscape

    catalogue = figure_catalogue(results, out)
    print(json.dumps({"sklandscape": sklandscape.__file__, "figures": list(catalogue)}), flush=True)
    for line in sys.stdin:
        wall, cpu = time_call(catalogue[line.strip()])
        print(json.dumps([wall, cpu]), flush=True)


class Side:
    """A worker process timing figures with one checkout's src/sklandscape."""

    def __init__(self, label: str, src: Path, results: Path, out: Path):
        self.label = label
        out.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(src)}
        self.process = subprocess.Popen(
            [PYTHON, __file__, "--worker", "--results", str(results), "--out", str(out)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        hello = json.loads(self.process.stdout.readline())
        if not hello["sklandscape"].startswith(str(src)):
            raise RuntimeError(f"{label}: imported {hello['sklandscape']}, not from {src}")
        self.figures = hello["figures"]
        self.timings: dict[str, list[tuple[float, float]]] = {}

    def time(self, name: str) -> None:
        self.process.stdin.write(name + "\n")
        self.process.stdin.flush()
        self.timings.setdefault(name, []).append(tuple(json.loads(self.process.stdout.readline())))

    def median(self, name: str, which: int) -> float:
        return statistics.median(t[which] for t in self.timings[name])

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


# ----------------------------------------------------------------------------- inputs
def run_pipeline(scratch: Path) -> Path:
    shutil.copy(ROOT / "Snakefile", scratch / "Snakefile")
    shutil.copytree(ROOT / "workflow", scratch / "workflow")
    if (ROOT / "profiles").is_dir():
        shutil.copytree(ROOT / "profiles", scratch / "profiles")
    (scratch / "config").mkdir()
    shutil.copy(ROOT / "config" / "config.yaml", scratch / "config" / "config.yaml")
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{scratch / 'mlflow.db'}"}
    print(f"# running the pipeline on config/config.yaml in {scratch} ...", flush=True)
    subprocess.run([PYTHON, "-m", "snakemake", "--cores", "4", "--nocolor"], cwd=scratch,
                   env=env, check=True, capture_output=True)
    return scratch / "results"


def checkout(ref: str, where: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), ref],
                   check=True, capture_output=True)
    return where / "src"


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


# ----------------------------------------------------------------------------- report
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, help="a pipeline run's results/ directory")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compare", metavar="REF", help="git ref to time side by side")
    parser.add_argument("--keep", type=Path, help="keep the figures drawn under this directory")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.results, args.out)

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")
    print(f"# machine: {cpu}, {os.cpu_count()} cores; load average before: {load()}")
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        results = args.results.resolve() if args.results else run_pipeline(scratch / "run")
        out = args.keep.resolve() if args.keep else scratch / "figures"
        sides = []
        try:
            if args.compare:
                baseline_src = checkout(args.compare, scratch / "baseline")
                sides.append(Side(args.compare, baseline_src, results, out / "baseline"))
            sides.append(Side("this checkout", ROOT / "src", results, out / "current"))
            names = [n for n in sides[-1].figures if all(n in s.figures for s in sides)]
            for _ in range(args.repeats):
                for name in names:
                    for side in sides:  # alternate, so both sides see the same load
                        side.time(name)
        finally:
            for side in sides:
                side.close()
            if args.compare:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(scratch / "baseline")], check=False, capture_output=True)
    print(f"# load average after: {load()}")
    print(f"# median of {args.repeats}; results from {results if args.results else 'a fresh run'}")
    header = " | ".join(f"{s.label} wall s | {s.label} CPU s" for s in sides)
    print(f"\n| figure | {header} |\n|---|" + "---|---|" * len(sides))
    for name in names:
        cells = " | ".join(f"{s.median(name, 0):.2f} | {s.median(name, 1):.2f}" for s in sides)
        print(f"| {name} | {cells} |")
    totals = [(sum(s.median(n, 0) for n in names), sum(s.median(n, 1) for n in names))
              for s in sides]
    print("| **total** | " + " | ".join(f"**{w:.2f}** | **{c:.2f}**" for w, c in totals) + " |")
    if len(sides) == 2:
        (bw, bc), (cw, cc) = totals
        print(f"\nchange: wall {100 * (cw - bw) / bw:+.0f}%, CPU {100 * (cc - bc) / bc:+.0f}%")


if __name__ == "__main__":
    main()
