"""End to end: the direction kinds in the real workflow, on a config of their own (small)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sklandscape import io
from sklandscape.data.datasets import split_xy
from workflow_support import (
    make_workspace,
    planned_jobs,
    snakemake,
    write_config,
)

pytestmark = pytest.mark.pipeline

CONFIG = {
    "experiment": "sklandscape-directions-test",
    "datasets": {
        "curve": {"function": "sine", "n_samples": 40, "domain": [[-3.14159, 3.14159]],
                  "sampling": "grid"},
        "surface": {"function": "waves_with_spike", "n_samples": 120,
                    "domain": [[-3.0, 3.0], [-3.0, 3.0]], "seed": 1},
    },
    "networks": {
        "N1": {"dataset": "curve", "hidden_layer_sizes": [2], "solver": "lbfgs", "max_iter": 300,
               "random_state": 0},
        "N2": {"dataset": "surface", "hidden_layer_sizes": [4, 3], "solver": "adam",
               "max_iter": 15, "learning_rate_init": 0.01, "random_state": 0},
    },
    "landscapes": {
        "N1_pairs": {"network": "N1", "kind": "weight_pairs", "axes": "all", "span": 2.0,
                     "resolution": 5, "samples": [10]},
        "N2_pairs": {"network": "N2", "kind": "weight_pairs", "span": 1.0, "resolution": 5,
                     "axes": [["W1[0,0]", "W3[2,0]"], ["b1[0]", "b3[0]"]]},
        "N1_plane": {"network": "N1", "kind": "random_plane", "seeds": [0, 1], "span": 1.0,
                     "resolution": 7},
        "N1_line": {"network": "N1", "kind": "interpolation", "resolution": 21},
        "N2_path": {"network": "N2", "kind": "trajectory_pca", "resolution": 7},
    },
}

TARGETS = ["results/figures/landscape_N1_pairs.png", "results/tables/N1_pairs.html",
           "results/figures/landscape_N2_pairs.png", "results/figures/seed_spread_N1_plane.png",
           "results/figures/landscape_N1_line.png", "results/figures/landscape_N2_path.png"]

EXPECTED_JOBS = sorted(
    [("data", "dataset=curve"), ("data", "dataset=surface"), ("train", "network=N1"),
     ("train", "network=N2"), ("weight_pairs", "landscape=N1_pairs"),
     ("weight_pairs", "landscape=N2_pairs"), ("random_plane", "landscape=N1_plane"),
     ("interpolation", "landscape=N1_line"), ("trajectory_pca", "landscape=N2_path")]
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("directions"), CONFIG)
    assert planned_jobs(root, targets=TARGETS) == EXPECTED_JOBS
    snakemake(root, "--cores", "2", *TARGETS)
    return root




def test_every_output_exists(workspace):
    results = workspace / "results"
    expected = [f"models/{n}/{f}" for n in ("N1", "N2")
                for f in ("weights.parquet", "initial_weights.parquet", "trajectory.parquet")]
    expected += [f"landscapes/{n}.parquet" for n in CONFIG["landscapes"]]
    expected += ["landscapes/N1_pairs.stats.parquet", "tables/N1_pairs.csv", "tables/N1_pairs.html",
                 "landscapes/N1_plane.directions.parquet", "landscapes/N1_plane.stats.parquet",
                 "tables/N1_plane.csv", "figures/landscape_N1_plane.png",
                 "landscapes/N2_path.path.parquet"]
    expected += [t.removeprefix("results/") for t in TARGETS]
    expected += [f"landscapes/{n}.topology.parquet" for n, spec in CONFIG["landscapes"].items()
                 if spec["kind"] != "interpolation"]  # every 2-D landscape's topology
    assert [p for p in expected if not (results / p).is_file()] == []


def test_training_records_the_path_it_took(workspace):
    for network in ("N1", "N2"):
        folder = workspace / "results/models" / network
        weights = io.read_weights(folder / "weights.parquet")
        initial = io.read_weights(folder / "initial_weights.parquet")
        iterations, states, meta = io.read_trajectory(folder / "trajectory.parquet")
        np.testing.assert_array_equal(states[-1], weights.flat)
        np.testing.assert_array_equal(states[0], initial.flat)
        model = io.read_model(folder / "model.skops")
        assert len(iterations) == model.n_iter_ + 1 and meta["ends_at_fitted_weights"] is True
    assert meta["solver"] == "adam" and len(iterations) == 16


def test_tables_agree_with_the_trained_model(workspace):
    results = workspace / "results"
    X, y = split_xy(io.read_table(results / "data/curve.parquet")[0])
    model = io.read_model(results / "models/N1/model.skops")
    trained = float(np.mean((model.predict(X) - y) ** 2))
    line, _ = io.read_table(results / "landscapes/N1_line.parquet")
    assert line["alpha"].iloc[[5, 15]].tolist() == [0.0, 1.0]
    assert line["loss"].iloc[15] == pytest.approx(trained, rel=1e-12)
    stats, _ = io.read_table(results / "landscapes/N1_pairs.stats.parquet")
    one = float(np.mean((model.predict(X[[10]]) - y[[10]]) ** 2))
    assert len(stats) == 21 and stats["loss_centre"].tolist() == pytest.approx([one] * 21)
    pairs, _ = io.read_table(results / "landscapes/N2_pairs.parquet")
    assert sorted(set(zip(pairs["x_name"], pairs["y_name"]))) == [("W1[0,0]", "W3[2,0]"),
                                                                 ("b1[0]", "b3[0]")]
    plane, meta = io.read_table(results / "landscapes/N1_plane.parquet")
    assert sorted(plane["seed"].unique()) == [0, 1] and meta["centre"]["loss"] == pytest.approx(trained)


def test_one_finished_run_per_job_linked_to_its_training(runs):
    client, by_name = runs
    assert sorted(by_name) == sorted(f"{rule}-{wc.split('=')[1]}" for rule, wc in EXPECTED_JOBS)
    assert {r.info.status for r in by_name.values()} == {"FINISHED"}
    for name, network in [("N1_pairs", "N1"), ("N2_pairs", "N2"), ("N1_plane", "N1"),
                          ("N1_line", "N1"), ("N2_path", "N2")]:
        kind = CONFIG["landscapes"][name]["kind"]
        run = by_name[f"{kind}-{name}"]
        assert run.data.tags["upstream_run_id"] == by_name[f"train-{network}"].info.run_id
        figures = [a.path for a in client.list_artifacts(run.info.run_id, "figures")]
        assert f"figures/landscape_{name}.png" in figures
    metrics = by_name["trajectory_pca-N2_path"].data.metrics
    assert {"distance_max", "distance_mean", "explained_total", "loss_gap_max"} <= set(metrics)
    assert 0 < metrics["explained_total"] <= 1
    pairs = by_name["weight_pairs-N1_pairs"]
    assert pairs.data.metrics["n_pairs"] == 21
    assert [a.path for a in client.list_artifacts(pairs.info.run_id, "tables")] == [
        "tables/N1_pairs.csv", "tables/N1_pairs.html"]
    plane = by_name["random_plane-N1_plane"].data.metrics
    assert {"seeds.loss_max.mean", "seeds.loss_max.std", "seeds.loss_max.cv"} <= set(plane)
    train = [a.path for a in client.list_artifacts(by_name["train-N1"].info.run_id)]
    assert {"initial_weights.parquet", "trajectory.parquet"} <= set(train)


def test_nothing_to_do_after_a_full_run(workspace):
    assert planned_jobs(workspace, targets=TARGETS) == []


def test_writing_out_the_defaults_reruns_nothing(workspace, edited):
    edited["landscapes"]["N1_plane"] |= {"zero_biases": True, "samples": "all"}
    edited["landscapes"]["N1_line"]["alpha_range"] = [-0.5, 1.5]
    edited["landscapes"]["N2_path"]["margin"] = 0.25
    write_config(workspace, edited)
    assert planned_jobs(workspace, targets=TARGETS) == []


def test_changing_the_seeds_reruns_only_that_plane(workspace, edited):
    edited["landscapes"]["N1_plane"]["seeds"] = [0, 2]
    write_config(workspace, edited)
    assert planned_jobs(workspace, targets=TARGETS) == [("random_plane", "landscape=N1_plane")]


def test_grid_kinds_keep_their_own_rules_beside_the_new_ones(workspace, edited):
    edited["landscapes"]["N1_grid"] = {"network": "N1", "kind": "weights",
                                       "axes": ["W1[0,0]", "b2[0]"], "span": 1.0, "resolution": 5}
    write_config(workspace, edited)
    assert planned_jobs(workspace, targets=["results/figures/landscape_N1_grid.png",
                                            *TARGETS]) == [
        ("landscape", "landscape=N1_grid")]


@pytest.mark.parametrize("change,message", [
    ({"N1_plane": {"axes": "all"}}, "landscapes.N1_plane: unknown key 'axes'"),
    ({"N1_pairs": {"axes": ["W1[0,0]", "W1(0,1)"]}}, "W1\\(0,1\\)"),
    ({"N1_plane": {"seeds": []}}, "seeds"),
])
def test_bad_direction_config_stops_before_any_job(workspace, edited, change, message):
    for name, update in change.items():
        edited["landscapes"][name] |= update
    write_config(workspace, edited)
    result = snakemake(workspace, "-n", "--cores", "1", check=False)
    assert result.returncode != 0
    assert re.search(message, result.stdout + result.stderr)
