"""Where the pipeline's time goes, against the targets of the "job, not the engine" issue.

    .venv/bin/python benchmarks/pipeline_timing.py [--cores 2] [--repeats 3]

In scratch directories (results and MLflow store there too), with real Snakemake runs:
1. the default config from clean, then again with nothing to do; every job's own
   accounting (its process' CPU and wall time from its start, which Snakemake's
   `benchmark:` files miss: they sample every 0.5 s), read from its MLflow run; the CPU of
   the main process (snakemake), the logging process and the job server's imports as what
   remains of the children's CPU;
2. the fixed cost of a job: a workflow of jobs that do nothing inside `pipeline_job`, run by
   the job server as in a local run, and in their own interpreters (as on a cluster) alone
   and with a landscape job's imports; beside them, in fresh interpreters, what a job
   paid when it logged its own run (import mlflow, open the store, one run);
3. one weights landscape at 1001² on 200 samples, as a job, start-up included.
The machine and the load average (before and after) are printed: other processes inflate
every figure, so compare what one run of this script measures side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

MLFLOW_IN_JOB = """
import time
started = time.perf_counter()
import mlflow
from mlflow.tracking import MlflowClient
imported = time.perf_counter()
mlflow.set_tracking_uri("sqlite:///{db}")
mlflow.set_experiment("timing")
with mlflow.start_run():
    mlflow.log_params({{"x": 1}})
    mlflow.log_metrics({{"m": 1.0}})
print(imported - started, time.perf_counter() - imported)
"""

EMPTY_JOBS = """
from sklandscape.pipeline.job_server import JobServer

JOBS = JobServer()

onstart:
    if {server}:
        import os, time
        JOBS.start()
        while not os.path.exists(JOBS.address):  # its imports done: every job goes to it
            time.sleep(0.05)

onsuccess:
    JOBS.close()

rule all:
    input: expand("out/{{n}}.txt", n=range({count}))

rule empty:
    output: "out/{{n}}.txt"
    log: "logs/{{n}}.log"
    params: what="nothing"
    script: "empty_job.py"
"""

EMPTY_JOB = """
from sklandscape.pipeline.job_handover import hand_over

hand_over()
{imports}
from sklandscape.pipeline.jobs import pipeline_job

with pipeline_job(snakemake, "timing") as run:
    open(snakemake.output[0], "w").write("done")
"""

LARGE_LANDSCAPE = {
    "experiment": "timing-large",
    "datasets": {"curve": {"function": "sine", "n_samples": 200, "domain": [[-3.14159, 3.14159]],
                           "sampling": "grid"}},
    "networks": {"N1": {"dataset": "curve", "hidden_layer_sizes": [2], "max_iter": 300}},
    "landscapes": {"N1_1001": {"network": "N1", "kind": "weights", "axes": ["W1[0,0]", "W2[0,0]"],
                               "span": 2.0, "resolution": 1001, "samples": "all"}},
}


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def workspace(root: Path, config: dict | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "Snakefile", root / "Snakefile")
    shutil.copytree(ROOT / "workflow", root / "workflow")
    shutil.copytree(ROOT / "profiles", root / "profiles")
    (root / "config").mkdir()
    if config is None:
        shutil.copy(ROOT / "config" / "config.yaml", root / "config" / "config.yaml")
    else:
        (root / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    return root


def snakemake(root: Path, *args: str) -> tuple[float, float]:
    """(wall s, CPU s of the snakemake process and all its jobs)."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([PYTHON, "-m", "snakemake", "--nocolor", *args], cwd=root, env=env,
                   check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def job_runs(root: Path, experiment: str) -> list[dict]:
    """Every job's run: its name and its own accounting."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    found = client.get_experiment_by_name(experiment)
    runs = client.search_runs([found.experiment_id], max_results=1000)
    return sorted(({"name": r.info.run_name, **r.data.metrics} for r in runs),
                  key=lambda r: -r.get("job_process_seconds", 0))


def empty_jobs(root: Path, count: int, imports: str, server: bool) -> list[dict]:
    """`count` jobs that do nothing inside pipeline_job, through Snakemake, with or without
    the job server; their records."""
    root.mkdir(parents=True)
    (root / "Snakefile").write_text(EMPTY_JOBS.format(count=count, server=server))
    (root / "empty_job.py").write_text(EMPTY_JOB.format(imports=imports))
    env = {**os.environ, "SKLANDSCAPE_RUN_RECORDS": str(root / "records")}
    subprocess.run([PYTHON, "-m", "snakemake", "--cores", "1", "--nocolor"], cwd=root, env=env,
                   check=True, capture_output=True)
    return [json.loads(p.read_text())["metrics"] for p in (root / "records").glob("*.json")]


def median(values) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="empty jobs per kind (median)")
    args = parser.parse_args()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")
    print(f"# machine: {cpu}, {os.cpu_count()} cores; load average before: {load()}")
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        root = workspace(scratch / "default")
        clean, clean_cpu = snakemake(root, "--cores", str(args.cores))
        noop, _ = snakemake(root, "--cores", str(args.cores))
        runs = job_runs(root, "sklandscape")
        jobs_cpu = sum(r.get("job_cpu_seconds", 0) for r in runs)
        print(f"\n| run | wall s | target |\n|---|---|---|\n"
              f"| default config from clean, --cores {args.cores} | **{clean:.1f}** | ≤ 30 |\n"
              f"| nothing to do | **{noop:.1f}** | ≤ 3 |")
        print(f"\n| CPU seconds of the clean run | s |\n|---|---|\n"
              f"| all processes | {clean_cpu:.1f} |\n"
              f"| the {len(runs)} jobs (their own accounting, start-up included) | {jobs_cpu:.1f} |\n"
              f"| the main process (snakemake), the logging process and the job server's "
              f"imports | "
              f"{clean_cpu - jobs_cpu:.1f} |")
        print("\n| job | wall from its process' start s | CPU s | inside its run s |\n"
              "|---|---|---|---|")
        for r in runs:
            print(f"| {r['name']} | {r.get('job_process_seconds', float('nan')):.2f} | "
                  f"{r.get('job_cpu_seconds', float('nan')):.2f} | {r.get('job_seconds', 0):.2f} |")

        print(f"\n| fixed cost of a job (Snakemake `script:` jobs that do nothing, median of "
              f"{args.repeats}) | CPU s | wall s |\n|---|---|---|")
        landscape_imports = "import sklandscape.pipeline.stages, sklandscape.pipeline.stages.figures"
        for label, imports, server in [
                ("run by the job server, as every job of a local run (the script's own "
                 "process, then a fork of the server)", landscape_imports, True),
                ("in its own interpreter (a cluster job), `pipeline_job` alone", "", False),
                ("in its own interpreter, with a landscape job's imports (numpy, pandas, "
                 "pyarrow, matplotlib, sklandscape)", landscape_imports, False)]:
            records = empty_jobs(scratch / f"empty{len(label)}", args.repeats, imports, server)
            print(f"| {label} | **{median(r['job_cpu_seconds'] for r in records):.2f}** | "
                  f"{median(r['job_process_seconds'] for r in records):.2f} |")
        db = scratch / "mlflow_in_job.db"
        timings = [[float(v) for v in subprocess.run(
            [PYTHON, "-c", MLFLOW_IN_JOB.format(db=db)], check=True, capture_output=True,
            text=True).stdout.split()[-2:]] for _ in range(args.repeats)]
        print(f"| for comparison, what a job paid when it logged its own run: import mlflow | "
              f"| {median(t[0] for t in timings):.2f} |")
        print(f"| ... then open the SQLite store and log one run | "
              f"| {median(t[1] for t in timings):.2f} |")

        large = workspace(scratch / "large", LARGE_LANDSCAPE)
        snakemake(large, "--cores", str(args.cores), "results/models/N1/weights.parquet")
        wall, _ = snakemake(large, "--cores", "1", "results/landscapes/N1_1001.parquet",
                            "results/figures/landscape_N1_1001.png")
        (landscape,) = [r for r in job_runs(large, "timing-large") if r["name"] == "landscape-N1_1001"]
        print(f"\n| one weights landscape, 1001² on 200 samples, as a job | s | target |\n"
              f"|---|---|---|\n"
              f"| wall from its process' start to its end (start-up included) | "
              f"**{landscape['job_process_seconds']:.2f}** | ≤ 1.5 |\n"
              f"| CPU | {landscape['job_cpu_seconds']:.2f} | |\n"
              f"| inside its run (the engine, the table, the figure) | {landscape['job_seconds']:.2f} | |\n"
              f"| the whole `snakemake` command for it (its start, parse, DAG, tracking) | "
              f"{wall:.2f} | |")
    print(f"\n# load average after: {load()}")
    print(textwrap.dedent(f"""
        clean_s={clean:.1f} noop_s={noop:.1f} jobs={len(runs)} jobs_cpu_s={jobs_cpu:.1f}
        main_cpu_s={clean_cpu - jobs_cpu:.1f} large_job_s={landscape['job_process_seconds']:.2f}"""))


if __name__ == "__main__":
    main()
