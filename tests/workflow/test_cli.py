"""`python -m sklandscape`: help, version, docs, and `run` on a user's config alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import sklandscape
from workflow_support import REPO, make_workspace

USER_CONFIG = {  # 4 jobs: data, train and two landscapes
    "experiment": "sklandscape-cli-test",
    "datasets": {"mine": {"function": "sine", "n_samples": 30, "domain": [[-3.0, 3.0]]}},
    "networks": {"net": {"dataset": "mine", "hidden_layer_sizes": [3], "max_iter": 200}},
    "landscapes": {
        "slice": {"network": "net", "kind": "weights", "axes": ["W1[0,0]", "W2[0,0]"],
                  "span": 1.0, "resolution": 9},
        "line": {"network": "net", "kind": "interpolation", "resolution": 11},
    },
}


def sklandscape_cli(*args, cwd=REPO, env=None):
    return subprocess.run([sys.executable, "-m", "sklandscape", *args], cwd=cwd, capture_output=True,
                          text=True, env=env)


def test_help_version_and_docs():
    shown = sklandscape_cli("--help")
    assert shown.returncode == 0 and "run the Snakemake pipeline" in shown.stdout
    assert "Documentation: docs/" in shown.stdout
    version = sklandscape_cli("--version")
    assert version.stdout.strip() == f"sklandscape {sklandscape.__version__}"
    assert "docs/index.md" in sklandscape_cli("docs").stdout


def test_bad_arguments_are_named():
    missing = sklandscape_cli("run", "no/such/config.yaml")
    assert missing.returncode != 0 and "no config file no/such/config.yaml" in missing.stderr
    device = sklandscape_cli("run", "/dev/zero")  # Snakemake itself would read it for ever
    assert device.returncode != 0 and "/dev/zero is not a regular file" in device.stderr
    unknown = sklandscape_cli("--frobnicate")
    assert unknown.returncode == 2 and "--frobnicate" in unknown.stderr


@pytest.mark.pipeline
def test_run_a_users_config_runs_only_its_four_jobs(tmp_path):
    root = make_workspace(tmp_path / "ws", yaml.safe_load((REPO / "config/config.yaml").read_text()))
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump(USER_CONFIG))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
               MLFLOW_TRACKING_URI=f"sqlite:///{root / 'mlflow.db'}")
    ran = sklandscape_cli("run", str(mine), "--cores", "2", "--directory", str(root), env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    done = [line for line in ran.stderr.splitlines() if "steps (100%) done" in line]
    # its four jobs, the versions page (a local rule) and `all`
    assert done and done[-1].endswith("6 of 6 steps (100%) done"), ran.stderr[-2000:]
    made = sorted(p.name for p in (root / "results/landscapes").glob("*.parquet"))
    assert made == ["line.parquet", "slice.parquet", "slice.topology.parquet"]
    assert not (root / "results/data/sine_curve.parquet").exists()
