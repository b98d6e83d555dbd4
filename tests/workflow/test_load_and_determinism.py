"""Under load and twice over: 32 tiny jobs with --cores 8, then the same config with --cores 1.

One MLflow run per job and nothing lost under concurrency; bit-identical tables and
figures from the two clean runs (so the number of cores changes nothing); the numerical
edges and users' data files end to end. Grids and datasets are tiny: what is tested here
is the orchestration, not the numbers (those are checked against predict elsewhere).
"""

from __future__ import annotations

import copy
import hashlib
import os
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sklandscape import io
from sklandscape.api.grids import TARGET_NEAREST
from workflow_support import make_workspace, planned_jobs, snakemake

pytestmark = pytest.mark.pipeline

HUGE = 1e100


def _weights(network, axes, span=1.0, samples="all"):
    return {"network": network, "kind": "weights", "axes": axes, "span": span, "resolution": 5,
            "samples": samples}


LOAD_CONFIG = {
    "experiment": "sklandscape-load",
    "datasets": {
        "curve": {"function": "sine", "n_samples": 30, "domain": [[-3.0, 3.0]], "sampling": "grid"},
        "surface": {"function": "waves_with_spike", "n_samples": 60, "domain": [[-3, 3], [-3, 3]],
                    "noise": 0.05, "seed": 1},
        "mine": {"path": "data/mine.csv", "features": ["height", "area"], "target": "price"},
        "wide": {"path": "data/wide.parquet", "features": ["a", "b", "c"], "target": "t"},
    },
    "networks": {
        "T1": {"dataset": "curve", "hidden_layer_sizes": [2], "activation": "tanh", "max_iter": 100},
        "R2": {"dataset": "surface", "hidden_layer_sizes": [4, 3], "activation": "relu",
               "solver": "adam", "max_iter": 15},
        "U": {"dataset": "mine", "hidden_layer_sizes": [3], "max_iter": 100},
        "W": {"dataset": "wide", "hidden_layer_sizes": [2], "activation": "identity", "max_iter": 100},
    },
    # Three landscapes are split into tiles, so tiles and their gathers run under load too.
    "landscapes": {
        "T1_w": {**_weights("T1", ["W1[0,0]", "W2[0,0]"], 2.0, [3]), "tiles": 4},
        "T1_huge": _weights("T1", ["W1[0,0]", "b1[0]"], HUGE),      # tanh saturates: finite
        # (a logistic network's overflow inside exp: tests/unit/pipeline/stages/test_numerics.py)
        "W_inf": _weights("W", ["W1[0,0]", "W2[0,0]"], HUGE),       # squared error overflows: inf
        "R2_input": {"network": "R2", "kind": "input_space", "resolution": 7},
        "U_input": {"network": "U", "kind": "input_space", "resolution": 7},  # nearest-point target
        "U_w": {**_weights("U", ["W1[1,2]", "b2[0]"], 1.0, [0, 5]), "tiles": 4},
        "T1_biases": _weights("T1", ["b1[1]", "b2[0]"]),
        # a hidden layer's weight
        "R2_deep": {**_weights("R2", ["W2[1,2]", "W3[0,0]"], 0.5), "tiles": 5},
        "W_w": _weights("W", ["W1[2,1]", "b1[0]"], 0.5, [0, 3]),
    },
}


def _jobs() -> list[str]:
    """The MLflow run name of every job: rule and wildcards."""
    jobs = [f"data-{name}" for name in LOAD_CONFIG["datasets"]]
    jobs += [f"train-{name}" for name in LOAD_CONFIG["networks"]]
    for name, spec in LOAD_CONFIG["landscapes"].items():
        tiles = spec.get("tiles", 1)
        if tiles == 1:
            jobs.append(f"landscape-{name}")
        else:
            jobs += [f"landscape_tile-{name}-{t}" for t in range(tiles)]
            jobs.append(f"landscape-{name}")  # the gather job's run, named as one job's
    return sorted(jobs)


JOBS = _jobs()


def write_user_files(data: Path) -> None:
    data.mkdir()
    rng = np.random.default_rng(7)
    X = rng.uniform([0, 50], [4, 150], size=(30, 2))
    pd.DataFrame({"height": X[:, 0], "area": X[:, 1], "price": X[:, 0] + X[:, 1] / 50}).to_csv(
        data / "mine.csv", index=False)
    Z = rng.normal(size=(25, 3))
    pd.DataFrame({"a": Z[:, 0], "b": Z[:, 1], "c": Z[:, 2], "t": Z @ [1.0, -2.0, 0.5]}).to_parquet(
        data / "wide.parquet")


def run_pipeline(root: Path, cores: int, env: dict | None = None):
    make_workspace(root, LOAD_CONFIG)
    write_user_files(root / "data")
    # Lift the workflow's one-job-per-CPU cap: `cores` jobs at once, the load this is about.
    return snakemake(root, "--cores", str(cores), "--resources", f"cpu_slots={cores}", env=env)


@pytest.fixture(scope="module")
def parallel(tmp_path_factory):
    root = tmp_path_factory.mktemp("parallel")
    result = run_pipeline(root, 8)
    return root, result


@pytest.fixture(scope="module")
def serial(tmp_path_factory, parallel):
    root = tmp_path_factory.mktemp("serial")
    run_pipeline(root, 1)
    return root


def store_runs(root: Path):
    with sqlite3.connect(f"file:{root / 'mlflow.db'}?mode=ro", uri=True) as connection:
        return connection.execute("SELECT run_uuid, name, status FROM runs").fetchall()


def run_tags(root: Path) -> list[dict[str, str]]:
    with sqlite3.connect(f"file:{root / 'mlflow.db'}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT run_uuid, key, value FROM tags").fetchall()
    tags: dict[str, dict[str, str]] = {}
    for run, key, value in rows:
        tags.setdefault(run, {})[key] = value
    return list(tags.values())


def digests(root: Path) -> dict[str, str]:
    """sha256 of every table and figure (not logs or benchmarks, which hold times)."""
    files = [p for kind in ("data", "models", "landscapes", "figures")
             for p in (root / "results" / kind).rglob("*") if p.is_file() and p.suffix != ".skops"]
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


# --- under load ------------------------------------------------------------------------


def test_the_load_config_has_at_least_30_jobs():
    assert len(JOBS) == 30


def test_one_finished_run_per_job_under_8_cores(parallel):
    root, result = parallel
    runs = store_runs(root)
    assert sorted(name for _, name, _ in runs) == JOBS
    assert {status for _, _, status in runs} == {"FINISHED"}
    assert "Provided cores: 8" in result.stdout + result.stderr


def test_no_database_lock_errors_anywhere(parallel):
    root, result = parallel
    texts = [result.stdout, result.stderr] + [p.read_text() for p in (root / "results/logs").rglob("*.log")]
    assert not [t for t in texts if "database is locked" in t]


def test_logged_models_are_skops_not_pickle(parallel):
    root, _ = parallel
    mlmodels = list((root / "mlruns").rglob("MLmodel"))
    assert len(mlmodels) == len(LOAD_CONFIG["networks"])
    for path in mlmodels:
        flavour = yaml.safe_load(path.read_text())["flavors"]["sklearn"]
        assert flavour["serialization_format"] == "skops" and flavour["pickled_model"].endswith(".skops")
    assert not [p for p in (root / "mlruns").rglob("*") if p.suffix in (".pkl", ".pickle", ".joblib")]


# --- determinism ------------------------------------------------------------------------


def test_two_clean_runs_on_8_and_1_cores_are_bit_identical(parallel, serial):
    first, second = digests(parallel[0]), digests(serial)
    # data, per network the weights, initial weights and recorded path, landscapes, figures
    # (PNGs, and each landscape's interactive page), and each landscape's topology
    landscapes = len(LOAD_CONFIG["landscapes"])
    assert len(first) == 4 + 4 * 3 + landscapes + (4 + 4 + 4 + landscapes) + landscapes \
        + landscapes
    different = sorted(name for name in first if first[name] != second.get(name))
    assert different == [] and first.keys() == second.keys()


def test_model_files_hold_identical_weights(parallel, serial):
    # A skops file is a zip with timestamps and object ids, so its bytes differ between
    # runs; what it holds must not.
    for network in LOAD_CONFIG["networks"]:
        a = io.read_model(parallel[0] / f"results/models/{network}/model.skops")
        b = io.read_model(serial / f"results/models/{network}/model.skops")
        assert str(a) == str(b)
        # a scaled network is a Pipeline of its scaler and the MLP
        a, b = (m.steps[-1][1] if hasattr(m, "steps") else m for m in (a, b))
        for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
            np.testing.assert_array_equal(x, y)
        assert a.n_iter_ == b.n_iter_ and a.loss_ == b.loss_


# --- numerical edges, end to end ---------------------------------------------------------


def test_non_finite_cells_are_counted_in_the_metadata(parallel):
    root, _ = parallel
    for name, expect_inf in [("T1_huge", False), ("W_inf", True), ("T1_w", False)]:
        table, metadata = io.read_table(root / f"results/landscapes/{name}.parquet")
        n_bad = int((~np.isfinite(table["loss"])).sum())
        assert metadata["n_nonfinite"] == n_bad
        assert (n_bad > 0) == expect_inf, name
        assert not table["loss"].isna().any()  # overflow is +inf, never NaN here
        assert (root / f"results/figures/landscape_{name}.png").stat().st_size > 0


def test_no_runtime_warnings_in_any_job_log(parallel):
    root, _ = parallel
    logs = {p.name: p.read_text() for p in (root / "results/logs").rglob("*.log")}
    assert len(logs) == len(JOBS) + 1  # and the versions page's local rule
    assert "software_versions.log" in logs
    assert not [name for name, text in logs.items() if "RuntimeWarning" in text]


# --- users' data files, end to end -------------------------------------------------------


def test_user_data_is_recorded_with_its_hash(serial):
    source = serial / "data/mine.csv"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    frame, metadata = io.read_table(serial / "results/data/mine.parquet")
    assert metadata["source"]["sha256"] == digest
    assert metadata["source"]["columns"] == {"x0": "height", "x1": "area", "y": "price"}
    np.testing.assert_array_equal(frame["x1"], pd.read_csv(source)["area"])
    with sqlite3.connect(serial / "mlflow.db") as connection:
        run = connection.execute("SELECT run_uuid FROM runs WHERE name = 'data-mine'").fetchone()[0]
        params = dict(connection.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run,)))
        tags = dict(connection.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run,)))
    assert params["source_sha256"] == tags["source_sha256"] == digest
    assert params["spec.path"] == "data/mine.csv"
    _, landscape = io.read_table(serial / "results/landscapes/U_input.parquet")
    assert landscape["target"] == TARGET_NEAREST


def test_touching_a_data_file_reruns_nothing(serial):
    os.utime(serial / "data/mine.csv")
    os.utime(serial / "data/wide.parquet")
    assert planned_jobs(serial) == []


def test_editing_a_data_file_reruns_exactly_what_depends_on_it(serial):
    source = serial / "data/mine.csv"
    original = source.read_bytes()
    try:
        source.write_bytes(original + b"2.0,100.0,4.0\n")
        planned = planned_jobs(serial)
    finally:
        source.write_bytes(original)
    dependants = ["data-mine", "train-U", "landscape-U_input", "landscape_gather-U_w",
                  *[f"landscape_tile-U_w-{t}" for t in range(4)]]  # U_w has 4 tiles
    run_names = ["-".join([rule, *(kv.split("=")[1] for kv in wc.split(", "))]) for rule, wc in planned]
    assert sorted(run_names) == sorted(dependants)
    assert planned_jobs(serial) == []  # the original content back: nothing to do


def test_a_no_op_config_edit_reruns_nothing(serial):
    config = copy.deepcopy(LOAD_CONFIG)
    config["networks"]["U"]["activation"] = "tanh"  # the default, now explicit
    config["datasets"] = dict(reversed(list(config["datasets"].items())))
    (serial / "config/config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    try:
        assert planned_jobs(serial) == []
    finally:
        (serial / "config/config.yaml").write_text(yaml.safe_dump(LOAD_CONFIG, sort_keys=False))
