"""Where the pipeline's time goes: a clean run, a no-op rerun, and each job's fixed costs.

    .venv/bin/python benchmarks/pipeline_timing.py [--cores 4] [--repeats 3]

Copies the workflow (Snakefile, workflow/, profiles/) and config/config.yaml into a
scratch directory (results and MLflow store there too), runs `snakemake --cores N` from
clean, then again with nothing to do, and reads every job's Snakemake benchmark file. Then it times, in fresh interpreters,
what every job pays before doing its work: interpreter start, the imports of each kind
of job, opening the MLflow store, one empty tracked run. The load average is printed
before and after: other processes on the machine inflate every figure.
"""

from __future__ import annotations

import argparse
import csv
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

# What each kind of job imports before its work (the workflow scripts' imports, and
# what the Snakemake script preamble loads).
IMPORTS = {
    "interpreter only": "pass",
    "snakemake script preamble": "import snakemake.script",
    "numpy + pandas + pyarrow": "import numpy, pandas, pyarrow.parquet",
    "losscape stages (data, landscape)": "import losscape.pipeline.stages",
    "mlflow": "import mlflow",
    "a tracked job's imports": "import losscape.pipeline.stages, losscape.pipeline.jobs, losscape.pipeline.tracking",
    "+ matplotlib (drawing jobs)": "import losscape.pipeline.figure_stages, losscape.pipeline.jobs, losscape.pipeline.tracking",
    "+ scikit-learn, skops (train)": "import losscape.pipeline.stages, losscape.pipeline.tracking, "
    "sklearn.neural_network, skops.io, mlflow.sklearn",
}

EMPTY_RUN = """
import os, time
started = time.perf_counter()
from losscape.pipeline.tracking import job_run
imported = time.perf_counter()
with job_run("timing", "timing", {"job": "empty"}, {"x": 1}) as run:
    run.log_metrics({"m": 1.0})
print(imported - started, time.perf_counter() - imported)
"""


def run_seconds(code: str, env=None) -> float:
    started = time.perf_counter()
    subprocess.run([PYTHON, "-c", code], check=True, env=env, capture_output=True)
    return time.perf_counter() - started


def median_of(repeats: int, fn) -> float:
    return statistics.median(fn() for _ in range(repeats))


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def workspace(root: Path) -> Path:
    shutil.copy(ROOT / "Snakefile", root / "Snakefile")
    shutil.copytree(ROOT / "workflow", root / "workflow")
    if (ROOT / "profiles").is_dir():  # the workflow profile that `make run` reads too
        shutil.copytree(ROOT / "profiles", root / "profiles")
    (root / "config").mkdir()
    shutil.copy(ROOT / "config" / "config.yaml", root / "config" / "config.yaml")
    return root


def snakemake(root: Path, cores: int, env) -> float:
    started = time.perf_counter()
    subprocess.run([PYTHON, "-m", "snakemake", "--cores", str(cores), "--nocolor"], cwd=root,
                   env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def job_table(root: Path) -> list[tuple[str, float, float, float]]:
    """(job, wall s, CPU s, max RSS MB) from every job's Snakemake benchmark file."""
    rows = []
    for path in sorted((root / "results" / "benchmarks").glob("*/*.tsv")):
        with open(path) as handle:
            record = next(csv.DictReader(handle, delimiter="\t"))
        name = f"{path.parent.name}/{path.stem}"
        rows.append((name, float(record["s"]), float(record["cpu_time"]), float(record["max_rss"])))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3, help="runs per fixed-cost figure (median)")
    args = parser.parse_args()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")
    print(f"# machine: {cpu}, {os.cpu_count()} cores; load average before: {load()}")
    with tempfile.TemporaryDirectory() as scratch:
        root = workspace(Path(scratch))
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
        clean = snakemake(root, args.cores, env)
        noop = snakemake(root, args.cores, env)
        jobs = job_table(root)
        print(f"\n| run | wall s |\n|---|---|\n| clean, --cores {args.cores} | {clean:.1f} |\n"
              f"| nothing to do | {noop:.1f} |")
        print("\n| job | wall s | CPU s | max RSS MB |\n|---|---|---|---|")
        for name, seconds, cpu, rss in jobs:
            print(f"| {name} | {seconds:.1f} | {cpu:.1f} | {rss:.0f} |")
        total = sum(job[1] for job in jobs)
        cpu_total = sum(job[2] for job in jobs)
        print(f"| all {len(jobs)} jobs, summed | {total:.1f} | {cpu_total:.1f} | |")
        # CPU seconds inflate far less than wall time under load: on N idle cores the
        # jobs alone need at least cpu_total / N seconds of wall time.
        cores = min(args.cores, os.cpu_count() or 1)
        print(f"# the jobs' CPU time alone needs >= {cpu_total / cores:.0f} s of wall on {cores} cores")

        print(f"\n| fixed cost per job (fresh interpreter, median of {args.repeats}) | s |\n|---|---|")
        bare = median_of(args.repeats, lambda: run_seconds("pass"))
        for label, code in IMPORTS.items():
            seconds = median_of(args.repeats, lambda code=code: run_seconds(code))
            print(f"| {label} | {seconds:.2f} |" if code == "pass" else
                  f"| {label} | {seconds - bare:.2f} |")
        timings = []
        for _ in range(args.repeats):
            out = subprocess.run([PYTHON, "-c", EMPTY_RUN], check=True, env={
                **env, "MLFLOW_EXPERIMENT_NAME": "timing"}, capture_output=True, text=True)
            timings.append([float(v) for v in out.stdout.split()[-2:]])
        store = statistics.median(t[1] for t in timings)
        print(f"| one empty tracked run after the imports (store open, start, log, end) | {store:.2f} |")
    print(f"\n# load average after: {load()}")
    print(f"clean_s={clean:.1f} noop_s={noop:.1f} jobs={len(jobs)} job_seconds_summed={total:.1f} "
          f"job_cpu_seconds_summed={cpu_total:.1f}")


if __name__ == "__main__":
    main()
