"""The workflow template's way: `.test/config/config.yaml`, a tiny config with every kind of
landscape and analysis, run end to end with `snakemake --directory .test`, as a user of the
template runs it."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from workflow_support import REPO, snakemake, tracked_runs

pytestmark = pytest.mark.pipeline

CI_CONFIG = yaml.safe_load((REPO / ".test/config/config.yaml").read_text())
SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())


def test_the_ci_config_has_every_kind_of_landscape_and_analysis():
    kinds = {spec["kind"] for spec in CI_CONFIG["landscapes"].values()}
    assert kinds == set(SCHEMA["$defs"]["landscape"]["properties"]["kind"]["enum"])
    kinds = {spec["kind"] for spec in CI_CONFIG["analyses"].values()}
    assert kinds == set(SCHEMA["$defs"]["analysis"]["properties"]["kind"]["enum"])
    # a classifier, a tiled landscape and a held-out share too
    assert any(n.get("estimator") == "classifier" for n in CI_CONFIG["networks"].values())
    assert any(spec.get("tiles", 1) > 1 for spec in CI_CONFIG["landscapes"].values())


def test_the_ci_config_runs_end_to_end(tmp_path):
    for folder in ("workflow", "profiles", ".test"):
        shutil.copytree(REPO / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("results", ".snakemake", "mlflow.db*",
                                                      "mlruns"))
    root = tmp_path / ".test"
    snakemake(tmp_path, "--directory", ".test", "--cores", "2",
              env={"MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"})
    results = root / "results"
    for name, spec in CI_CONFIG["landscapes"].items():
        assert (results / "landscapes" / f"{name}.parquet").is_file(), name
        assert (results / "figures" / f"landscape_{name}.png").is_file(), name
        # every 2-D landscape has its topology, and on each of its grids
        # minima - saddles + maxima = 1 (the Euler characteristic of a disk)
        topology = results / "landscapes" / f"{name}.topology.parquet"
        assert topology.is_file() == (spec["kind"] != "interpolation"), name
        if topology.is_file():
            points = pd.read_parquet(topology)
            keys = [c for c in ("x_name", "y_name", "seed") if c in points.columns]
            for _, grid in (points.groupby(keys) if keys else [((), points)]):
                counts = grid.groupby("type")["multiplicity"].sum()
                assert counts.get("minimum", 0) - counts.get("saddle", 0) \
                    + counts.get("maximum", 0) == 1, name
                significant = grid[grid["significant"]].groupby("type")["multiplicity"].sum()
                assert significant.get("minimum", 0) - significant.get("saddle", 0) \
                    + significant.get("maximum", 0) == 1, name
    _, runs = tracked_runs(root, CI_CONFIG["experiment"])
    assert runs and {run.info.status for run in runs} == {"FINISHED"}
    names = {run.info.run_name for run in runs}
    # a grid kind's run is named after the rule `landscape`, a direction kind's after its kind
    assert {f"{'landscape' if spec['kind'] in ('input_space', 'weights') else spec['kind']}-{name}"
            for name, spec in CI_CONFIG["landscapes"].items()} <= names
    for name, spec in CI_CONFIG["analyses"].items():  # (optimizers without its animation too)
        assert [n for n in names if n.startswith(spec["kind"]) and n.endswith(f"-{name}")], name
    # nothing to do the second time
    again = snakemake(tmp_path, "--directory", ".test", "--cores", "2", "-n")
    assert "Nothing to be done" in again.stdout + again.stderr
