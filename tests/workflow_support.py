"""Running the real workflow in a scratch copy, for the end-to-end tests."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import yaml
from mlflow.tracking import MlflowClient

REPO = Path(__file__).resolve().parents[1]

SMALL_CONFIG = {
    "experiment": "sklandscape-test",
    "datasets": {
        "curve": {"function": "sine", "n_samples": 40, "domain": [[-3.14159, 3.14159]],
                  "sampling": "grid", "noise": 0.0, "seed": 0},
        "surface": {"function": "waves_with_spike", "n_samples": 150,
                    "domain": [[-3.0, 3.0], [-3.0, 3.0]], "sampling": "uniform", "seed": 1},
    },
    "networks": {
        "N1": {"dataset": "curve", "hidden_layer_sizes": [2], "activation": "tanh",
               "solver": "lbfgs", "alpha": 0.0, "max_iter": 300, "tol": 1e-6, "random_state": 0},
        # stopped early on purpose: its ConvergenceWarning must be recorded
        "N2": {"dataset": "surface", "hidden_layer_sizes": [4, 3], "activation": "tanh",
               "solver": "adam", "alpha": 0.0, "max_iter": 20, "tol": 1e-6, "random_state": 0},
    },
    "landscapes": {
        "N2_input": {"network": "N2", "kind": "input_space", "resolution": 11, "margin": 0.5},
        "N1_one": {"network": "N1", "kind": "weights", "axes": ["W1[0,0]", "W2[0,0]"],
                   "span": 2.0, "resolution": 7, "samples": [10]},
        "N1_all": {"network": "N1", "kind": "weights", "axes": ["b1[0]", "W2[1,0]"],
                   "span": 1.0, "resolution": 9, "samples": "all"},
    },
}


def make_workspace(root: Path, config: dict | None = None) -> Path:
    """A copy of the workflow (not the results) with its own config."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "workflow", root / "workflow", dirs_exist_ok=True)
    shutil.copytree(REPO / "profiles", root / "profiles", dirs_exist_ok=True)
    (root / "config").mkdir(exist_ok=True)
    write_config(root, config or SMALL_CONFIG)
    return root


def write_config(root: Path, config: dict) -> None:
    (root / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


@contextmanager
def config_edit(root: Path, config: dict):
    """A copy of `config` for one test to edit and write; `root`'s config is restored after."""
    try:
        yield copy.deepcopy(config)
    finally:
        write_config(root, config)


def tracked_runs(root: Path, experiment: str) -> tuple[MlflowClient, list]:
    """Every run of `experiment` in the workspace's SQLite store, and a client to read more."""
    client = MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
    found = client.get_experiment_by_name(experiment)
    return client, client.search_runs([found.experiment_id], max_results=1000)


def snakemake(root: Path, *args: str, env: dict | None = None, check: bool = True,
              python=None):
    environment = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
    environment.update(env or {})
    command = [str(python or sys.executable), "-m", "snakemake", "--nocolor", *args]
    result = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def planned_jobs(root: Path, env: dict | None = None, targets=()) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run would execute, except 'all' and
    'software_versions': local rules of the main process, with no MLflow run (the report
    tests check the versions page)."""
    output = snakemake(root, "-n", "--cores", "1", *targets, env=env).stdout
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", output):
        match = re.match(r"(?:local)?rule (\w+):", block.strip())
        if not match or match[1] in ("all", "software_versions"):
            continue
        wildcards = re.search(r"wildcards: (.*)", block)
        jobs.append((match[1], wildcards[1].strip() if wildcards else ""))
    return sorted(jobs)


def trained_network(root: Path, config: dict, network: str):
    """A workspace's saved model of `network`, its dataset's X and y as the pipeline wrote
    them, and its training split (None without a held-out share)."""
    from sklandscape import io
    from sklandscape.data.datasets import split_xy

    results = root / "results"
    model = io.read_model(results / "models" / network / "model.skops")
    dataset = config["networks"][network]["dataset"]
    X, y = split_xy(io.read_table(results / "data" / f"{dataset}.parquet")[0])
    split = io.read_metadata(results / "models" / network / "weights.parquet").get("split")
    return model, X, y, split


def keys_sorted(value, reverse: bool = False):
    """The same config with the keys of every mapping, at every depth, in sorted order."""
    if isinstance(value, dict):
        return {k: keys_sorted(value[k], reverse) for k in sorted(value, reverse=reverse)}
    if isinstance(value, list):
        return [keys_sorted(item, reverse) for item in value]
    return value
