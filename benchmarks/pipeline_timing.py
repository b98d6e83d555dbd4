"""Where the pipeline's time goes: the default config from clean and with nothing to do, side
by side with an earlier version of the code, and what each job kind pays before its work.

    .venv/bin/python benchmarks/pipeline_timing.py [--cores 2] [--repeats 2] [--compare REF]

In scratch directories (results and MLflow store there too), with real Snakemake runs:
1. the default config from clean, then again with nothing to do, for this checkout and for
   the git ref REF (default: the last commit before jobs became plain Snakemake jobs, when a
   job server forked them), taking turns so that both see the same machine load; REF's
   package is imported from its own source (PYTHONPATH), with this environment's libraries;
2. every job's own accounting in this checkout's clean run (its process' CPU and wall time
   from its start, from its MLflow run);
3. what each job kind imports: its script's imports in a fresh interpreter under
   `python -X importtime`, the heavy libraries among them, and the wall time (median);
4. the fixed cost of a job (a Snakemake `script:` job that does nothing inside
   `pipeline_job`), alone and with a landscape job's imports;
5. one weights landscape at 1001² on 200 samples, as a job, start-up included.
The machine and the load average (before and after) are printed: other processes inflate
every figure, so compare what one run of this script measures side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# The version before this one: the job server forked every local job (issue "one house").
DEFAULT_REF = "4a9d614"
HEAVY = ("numpy", "pandas", "pyarrow", "matplotlib", "sklearn", "scipy", "skops", "mlflow",
         "snakemake", "jsonschema", "PIL")

EMPTY_JOBS = """
rule all:
    input: expand("out/{{n}}.txt", n=range({count}))

rule empty:
    output: "out/{{n}}.txt"
    log: "logs/{{n}}.log"
    params: what="nothing"
    script: "empty_job.py"
"""

EMPTY_JOB = """
{imports}
from sklandscape.pipeline.jobs import pipeline_job

with pipeline_job(snakemake, "timing") as run:
    open(snakemake.output[0], "w").write("done")
"""

LANDSCAPE_IMPORTS = ("from sklandscape.pipeline.stages import figures, landscapes, pages")

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


def workspace(root: Path, source: Path = ROOT, config: dict | None = None) -> Path:
    """A copy of `source`'s workflow (Snakefile, workflow/, profiles/, config/)."""
    root.mkdir(parents=True, exist_ok=True)
    if (source / "Snakefile").is_file():  # versions before workflow/Snakefile
        shutil.copy(source / "Snakefile", root / "Snakefile")
    shutil.copytree(source / "workflow", root / "workflow")
    shutil.copytree(source / "profiles", root / "profiles")
    (root / "config").mkdir()
    if config is None:
        shutil.copy(source / "config" / "config.yaml", root / "config" / "config.yaml")
    else:
        (root / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    return root


def snakemake(root: Path, *args: str, env: dict | None = None) -> tuple[float, float]:
    """(wall s, CPU s of the snakemake process and all its jobs)."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}", **(env or {})}
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


def checkout(ref: str, folder: Path) -> Path:
    """The tree of `ref`, without .git, in `folder`."""
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def script_imports(script: Path) -> str:
    """The import lines of a workflow script (what its job imports before its work)."""
    return "\n".join(line for line in script.read_text().splitlines()
                     if line.startswith(("import ", "from ")))


def import_cost(imports: str, repeats: int) -> tuple[float, float, dict[str, float]]:
    """(median wall s of a fresh interpreter importing them, s inside the imports by
    -X importtime, {heavy library: its cumulative s})."""
    code = "import snakemake.script\n" + imports  # the job's preamble unpickles a Snakemake object
    walls = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([PYTHON, "-c", code], check=True, capture_output=True)
        walls.append(time.perf_counter() - started)
    profile = subprocess.run([PYTHON, "-X", "importtime", "-c", code], check=True,
                             capture_output=True, text=True).stderr
    inside, heavy = 0.0, {}
    for line in profile.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)$", line)
        if not match:
            continue
        cumulative, depth, name = int(match[1]) / 1e6, len(match[2]), match[3]
        if depth == 1:
            inside += cumulative
        if name in HEAVY and name not in heavy:
            heavy[name] = cumulative
    return statistics.median(walls), inside, heavy


def empty_jobs(root: Path, count: int, imports: str) -> list[dict]:
    """`count` Snakemake jobs that do nothing inside pipeline_job; their records' metrics."""
    root.mkdir(parents=True)
    (root / "Snakefile").write_text(EMPTY_JOBS.format(count=count))
    (root / "empty_job.py").write_text(EMPTY_JOB.format(imports=imports))
    env = {**os.environ, "SKLANDSCAPE_RUN_RECORDS": str(root / "records")}
    subprocess.run([PYTHON, "-m", "snakemake", "--cores", "1", "--nocolor"], cwd=root, env=env,
                   check=True, capture_output=True)
    return [json.loads(p.read_text())["metrics"] for p in (root / "records").glob("*.json")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2,
                        help="clean runs of each side (interleaved), and samples of each timing")
    parser.add_argument("--compare", default=DEFAULT_REF,
                        help=f"the git ref to run side by side (default {DEFAULT_REF}); "
                             "'' for none")
    args = parser.parse_args()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")
    print(f"# machine: {cpu}, {os.cpu_count()} cores; load average before: {load()}")
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        sides = {"this checkout": (ROOT, {})}
        if args.compare:
            old = checkout(args.compare, scratch / "ref")
            sides[f"{args.compare} (before)"] = (old, {"PYTHONPATH": str(old / "src")})
        timings = {side: {"clean": [], "noop": [], "cpu": []} for side in sides}
        ours = None
        for repeat in range(args.repeats):
            for number, (side, (source, env)) in enumerate(sides.items()):
                root = workspace(scratch / f"side{number}-{repeat}", source)
                clean, cpu_s = snakemake(root, "--cores", str(args.cores), env=env)
                noop, _ = snakemake(root, "--cores", str(args.cores), env=env)
                timings[side]["clean"].append(clean)
                timings[side]["noop"].append(noop)
                timings[side]["cpu"].append(cpu_s)
                if source == ROOT and ours is None:
                    ours = root
        print(f"\n| default config, --cores {args.cores} (each side {args.repeats}×, taking turns) "
              f"| from clean, wall s | nothing to do, wall s | CPU s of the clean run |\n"
              f"|---|---|---|---|")
        for side, t in timings.items():
            print(f"| {side} | **{statistics.median(t['clean']):.1f}** "
                  f"({', '.join(f'{v:.1f}' for v in t['clean'])}) | "
                  f"**{statistics.median(t['noop']):.1f}** | {statistics.median(t['cpu']):.1f} |")
        print("| target | ≤ 35 | ≤ 3 | |")

        runs = job_runs(ours, "sklandscape")
        jobs_cpu = sum(r.get("job_cpu_seconds", 0) for r in runs)
        print(f"\nThis checkout's first clean run: the {len(runs)} jobs used {jobs_cpu:.1f} s of "
              f"CPU (their own accounting, start-up included); the main process and the "
              f"logging process {timings['this checkout']['cpu'][0] - jobs_cpu:.1f} s.")
        print("\n| job | wall from its process' start s | CPU s | inside its run s |\n"
              "|---|---|---|---|")
        for r in runs:
            print(f"| {r['name']} | {r.get('job_process_seconds', float('nan')):.2f} | "
                  f"{r.get('job_cpu_seconds', float('nan')):.2f} | {r.get('job_seconds', 0):.2f} |")

        print(f"\n| a job's imports (its script's, in a fresh interpreter; median of "
              f"{args.repeats}) | wall s | inside imports s | heavy libraries, cumulative s |\n"
              f"|---|---|---|---|")
        for script in sorted((ROOT / "workflow" / "scripts").glob("*.py")):
            wall, inside, heavy = import_cost(script_imports(script), args.repeats)
            listed = ", ".join(f"{k} {v:.2f}" for k, v in sorted(heavy.items(), key=lambda kv: -kv[1]))
            print(f"| {script.stem} | {wall:.2f} | {inside:.2f} | {listed} |")

        print(f"\n| fixed cost of a job (Snakemake `script:` jobs that do nothing, median of "
              f"{max(args.repeats, 3)}) | CPU s | wall s |\n|---|---|---|")
        for label, imports in [("`pipeline_job` alone", ""),
                               ("with a landscape job's imports (numpy, pandas, pyarrow, "
                                "matplotlib, sklandscape)", LANDSCAPE_IMPORTS)]:
            records = empty_jobs(scratch / f"empty{len(label)}", max(args.repeats, 3), imports)
            print(f"| {label} | **{statistics.median(r['job_cpu_seconds'] for r in records):.2f}** "
                  f"| {statistics.median(r['job_process_seconds'] for r in records):.2f} |")

        large = workspace(scratch / "large", config=LARGE_LANDSCAPE)
        snakemake(large, "--cores", str(args.cores), "results/models/N1/weights.parquet")
        wall, _ = snakemake(large, "--cores", "1", "results/landscapes/N1_1001.parquet",
                            "results/figures/landscape_N1_1001.png")
        (landscape,) = [r for r in job_runs(large, "timing-large")
                        if r["name"] == "landscape-N1_1001"]
        print(f"\n| one weights landscape, 1001² on 200 samples, as a job | s |\n|---|---|\n"
              f"| wall from its process' start to its end (start-up included) | "
              f"**{landscape['job_process_seconds']:.2f}** |\n"
              f"| CPU | {landscape['job_cpu_seconds']:.2f} |\n"
              f"| inside its run (the engine, the table, the figure) | "
              f"{landscape['job_seconds']:.2f} |\n"
              f"| the whole `snakemake` command for it (its start, parse, DAG, tracking) | "
              f"{wall:.2f} |")
    print(f"\n# load average after: {load()}")


if __name__ == "__main__":
    main()
