"""End to end from config alone: a binary and a multiclass MLPClassifier and a regressor on
scikit-learn's bundled data, scaled, with held-out shares; every kind and analysis runs, and
the tables equal log_loss(predict_proba) / predict of the saved model with the weights set."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from sklearn.metrics import log_loss

import sklandscape as sl
from sklandscape import io
from workflow_support import make_workspace, snakemake, tracked_runs, trained_network

pytestmark = pytest.mark.pipeline

CONFIG = {
    "experiment": "sklandscape-classifiers-test",
    "datasets": {
        "cancer": {"sklearn": "breast_cancer",
                   "features": ["mean radius", "mean texture", "worst area", "worst smoothness"]},
        "iris": {"sklearn": "iris"},
        "diabetes": {"sklearn": "diabetes", "features": ["bmi", "bp", "s5"]},
    },
    "networks": {
        "B": {"dataset": "cancer", "estimator": "classifier", "hidden_layer_sizes": [5],
              "max_iter": 150, "random_state": 0, "holdout": 0.25},
        "M": {"dataset": "iris", "estimator": "classifier", "hidden_layer_sizes": [4],
              "solver": "lbfgs", "alpha": 0.01, "max_iter": 300, "random_state": 0},
        "R": {"dataset": "diabetes", "hidden_layer_sizes": [6], "max_iter": 200,
              "random_state": 0, "holdout": 0.2, "scaling": "minmax"},
    },
    "landscapes": {
        "B_slice": {"network": "B", "kind": "weights", "axes": ["W1[2,0]", "W2[1,0]"],
                    "span": 2.0, "resolution": 13},
        "B_line": {"network": "B", "kind": "interpolation", "resolution": 21},
        "B_path": {"network": "B", "kind": "trajectory_pca", "resolution": 9},
        "M_slice": {"network": "M", "kind": "weights", "axes": ["W1[2,1]", "W2[0,2]"],
                    "span": 2.0, "resolution": 13, "samples": [0, 60, 120, 149]},
        "M_pairs": {"network": "M", "kind": "weight_pairs", "span": 1.0, "resolution": 7,
                    "axes": ["W1[0,0]", "b1[1]", "W2[1,2]"]},
        "M_plane": {"network": "M", "kind": "random_plane", "seeds": [0, 1], "span": 1.0,
                    "resolution": 9},
        "M_map": {"network": "M", "kind": "input_space", "resolution": 21,
                  "features": ["petal length (cm)", "petal width (cm)"]},
        "R_slice": {"network": "R", "kind": "weights", "axes": ["W1[0,1]", "W2[3,0]"],
                    "span": 1.0, "resolution": 13},
        "R_map": {"network": "R", "kind": "input_space", "resolution": 17, "features": ["bmi", "s5"],
                  "reference": 3},
    },
    "analyses": {
        "M_curvature": {"kind": "curvature", "landscape": "M_slice"},
        "B_optimizers": {"kind": "optimizers", "landscape": "B_slice", "animation": False,
                         "start_offsets": [[1.0, 1.0]], "learning_rates": [0.1, 1.0],
                         "max_steps": 40},
        "M_attack": {"kind": "input_attack", "landscape": "M_map", "top_k": 4, "arrows": 5,
                     "ascent": {"step_size": 0.05, "steps": 5, "radius": 0.2}},
        "R_attack": {"kind": "input_attack", "landscape": "R_map", "top_k": 4, "arrows": 5,
                     "ascent": {"step_size": 0.05, "steps": 5, "radius": 0.2}},
    },
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("classifiers"), CONFIG)
    snakemake(root, "--cores", "2")
    return root


def _load(root, network):
    return trained_network(root, CONFIG, network)


def _with(model, net, values):
    clone = copy.deepcopy(model)
    mlp = clone.steps[-1][1] if hasattr(clone, "steps") else clone
    mlp.coefs_, mlp.intercepts_ = net.with_values(values).to_estimator_arrays()
    return clone


def _mlp(model):
    return model.steps[-1][1] if hasattr(model, "steps") else model


@pytest.mark.parametrize("name", ["B_slice", "M_slice", "R_slice"])
def test_weights_cells_equal_the_saved_models_own_scores(workspace, name):
    spec = CONFIG["landscapes"][name]
    model, X, y, split = _load(workspace, spec["network"])
    table, meta = io.read_table(workspace / f"results/landscapes/{name}.parquet")
    rows = np.asarray(meta["samples"])
    if split:  # "all" means the rows it trained on
        assert rows.tolist() == split["train"]
    net = sl.Network.from_estimator(model)
    for i in np.random.default_rng(1).choice(len(table), 5, replace=False):
        row = table.iloc[i]
        clone = _with(model, net, {a: row[a] for a in spec["axes"]})
        if hasattr(clone, "predict_proba"):
            labels = _mlp(clone).classes_
            assert row["loss"] == pytest.approx(
                log_loss(y[rows], clone.predict_proba(X[rows]), labels=labels), rel=1e-9)
            assert row["accuracy"] == np.mean(clone.predict(X[rows]) == y[rows])
        else:
            assert row["loss"] == pytest.approx(
                np.mean((clone.predict(X[rows]) - y[rows]) ** 2), rel=1e-9)
        if split:
            held = np.asarray(split["heldout"])
            expected = (log_loss(y[held], clone.predict_proba(X[held]), labels=_mlp(clone).classes_)
                        if hasattr(clone, "predict_proba")
                        else np.mean((clone.predict(X[held]) - y[held]) ** 2))
            assert row["loss_heldout"] == pytest.approx(expected, rel=1e-9)


def test_the_split_is_seeded_and_stratified(workspace):
    model, X, y, split = _load(workspace, "B")
    held = np.asarray(split["heldout"])
    assert len(held) == int(np.ceil(0.25 * len(y))) and not set(held) & set(split["train"])
    share = {c: np.mean(y[held] == c) for c in np.unique(y)}
    overall = {c: np.mean(y == c) for c in np.unique(y)}
    assert all(abs(share[c] - overall[c]) < 0.02 for c in share)


def test_tables_keep_the_real_names(workspace):
    data, meta = io.read_table(workspace / "results/data/iris.parquet")
    assert meta["source"]["columns"]["x2"] == "petal length (cm)"
    assert set(data["y"]) == {"setosa", "versicolor", "virginica"}
    _, map_meta = io.read_table(workspace / "results/landscapes/M_map.parquet")
    assert map_meta["plane"]["names"] == ["petal length (cm)", "petal width (cm)"]
    assert map_meta["network"]["classes"] == ["setosa", "versicolor", "virginica"]
    weights = io.read_metadata(workspace / "results/models/R/weights.parquet")
    assert weights["scaler"]["kind"] == "minmax"


def test_every_figure_and_analysis_was_made(workspace):
    figures = {p.name for p in (workspace / "results/figures").glob("*.png")}
    expected = {f"landscape_{n}.png" for n in CONFIG["landscapes"]}
    expected |= {"hessian_M_curvature.png", "optimizers_B_optimizers.png",
                 "attack_M_attack.png", "attack_R_attack.png", "fit_B.png", "fit_M.png",
                 "dataset_cancer.png"}
    assert expected <= figures, expected - figures


def test_training_runs_log_heldout_scores_and_names(workspace):
    _, found = tracked_runs(workspace, CONFIG["experiment"])
    runs = {r.info.run_name: r for r in found}
    b = runs["train-B"].data.metrics
    assert {"accuracy", "log_loss", "heldout_accuracy", "heldout_log_loss"} <= set(b)
    model, X, y, split = _load(workspace, "B")
    held = np.asarray(split["heldout"])
    assert b["heldout_accuracy"] == pytest.approx(np.mean(model.predict(X[held]) == y[held]))
    assert "heldout_loss_centre" in runs["landscape-B_slice"].data.metrics


def test_nothing_reruns(workspace):
    result = snakemake(workspace, "-n", "--cores", "1")
    assert "Nothing to be done" in result.stdout + result.stderr
