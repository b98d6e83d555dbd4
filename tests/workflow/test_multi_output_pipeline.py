"""A multi-output MLPRegressor end to end from config alone: scikit-learn's linnerud (3 targets)
bundled, and a user's file with a `targets:` list. Every kind and analysis runs; the cells
equal sklearn's mean_squared_error of the saved model's predict with the weights set; the API
gives the same files byte for byte; bad configs are refused before any job starts."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_linnerud
from sklearn.metrics import mean_squared_error

import sklandscape as sl
from sklandscape import io
from workflow_support import (
    config_edit,
    make_workspace,
    snakemake,
    tracked_runs,
    trained_network,
    write_config,
)

pytestmark = pytest.mark.pipeline

CONFIG = {
    "experiment": "sklandscape-multi-output-test",
    "datasets": {
        "linnerud": {"sklearn": "linnerud"},
        "body": {"path": "body.csv", "features": ["Chins", "Situps"],
                 "targets": ["Weight", "Pulse"]},
    },
    "networks": {
        "L": {"dataset": "linnerud", "hidden_layer_sizes": [5], "activation": "tanh",
              "solver": "lbfgs", "max_iter": 200, "scaling": "standard", "random_state": 0,
              "seeds": [0, 1], "holdout": 0.2},
        "B": {"dataset": "body", "hidden_layer_sizes": [4], "max_iter": 60,
              "scaling": "standard", "random_state": 0},
    },
    "landscapes": {
        "L_slice": {"network": "L", "kind": "weights", "axes": ["W1[0,0]", "W2[1,2]"],
                    "span": 1.0, "resolution": 11, "tiles": 2},
        "L_input": {"network": "L", "kind": "input_space", "features": ["Chins", "Jumps"],
                    "resolution": 9},
        "L_pairs": {"network": "L", "kind": "weight_pairs", "span": 1.0, "resolution": 5,
                    "axes": ["W1[0,0]", "b1[1]", "W2[2,2]"]},
        "L_plane": {"network": "L", "kind": "random_plane", "seeds": [0], "span": 1.0,
                    "resolution": 7},
        "L_hessian": {"network": "L", "kind": "hessian_plane", "span": 0.5, "resolution": 7},
        "B_line": {"network": "B", "kind": "interpolation", "resolution": 11},
        "B_path": {"network": "B", "kind": "trajectory_pca", "resolution": 7},
    },
    "analyses": {
        "L_curvature": {"kind": "curvature", "landscape": "L_slice"},
        "L_optimizers": {"kind": "optimizers", "landscape": "L_slice", "animation": False,
                         "start_offsets": [[0.5, -0.5]], "max_steps": 20},
        "L_attack": {"kind": "input_attack", "landscape": "L_input", "top_k": 3, "arrows": 4,
                     "ascent": {"step_size": 0.05, "steps": 3, "radius": 0.2}},
        "L_links": {"kind": "connectivity", "network": "L", "resolution": 7,
                    "curve_max_iter": 5, "plane_resolution": 5},
        "B_rates": {"kind": "learning_rates", "network": "B", "momenta": [0.0],
                    "factors": [0.5, 2.0], "max_iter": 10},
    },
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("multi_output"), CONFIG)
    load_linnerud(as_frame=True).frame.to_csv(root / "body.csv", index=False)
    snakemake(root, "--cores", "2")
    return root


def _moved_mse(model, flat, X, Y):
    net = sl.Network.from_estimator(model)
    clone = copy.deepcopy(model)
    clone[-1].coefs_, clone[-1].intercepts_ = net.with_flat(flat).to_estimator_arrays()
    return mean_squared_error(Y, clone.predict(X))


def test_the_data_tables_keep_every_target_and_its_name(workspace):
    frame, metadata = io.read_table(workspace / "results/data/linnerud.parquet")
    assert list(frame.columns) == ["x0", "x1", "x2", "y0", "y1", "y2"]
    assert metadata["source"]["columns"] == {"x0": "Chins", "x1": "Situps", "x2": "Jumps",
                                             "y0": "Weight", "y1": "Waist", "y2": "Pulse"}
    frame, metadata = io.read_table(workspace / "results/data/body.parquet")
    assert list(frame.columns) == ["x0", "x1", "y0", "y1"]
    assert metadata["source"]["columns"]["y1"] == "Pulse"
    raw = load_linnerud(as_frame=True).frame
    np.testing.assert_array_equal(frame["y1"], raw["Pulse"].to_numpy(float))


def test_cells_equal_the_saved_models_mean_squared_error(workspace):
    model, X, Y, split = trained_network(workspace, CONFIG, "L")
    assert Y.shape == (20, 3) and model[-1].n_outputs_ == 3
    rows = np.asarray(split["train"])
    net = sl.Network.from_estimator(model)
    frame, _ = io.read_table(workspace / "results/landscapes/L_slice.parquet")
    for _, row in frame.sample(4, random_state=0).iterrows():
        flat = net.with_values({"W1[0,0]": row["W1[0,0]"], "W2[1,2]": row["W2[1,2]"]}).flat
        assert row["loss"] == pytest.approx(_moved_mse(model, flat, X[rows], Y[rows]), rel=1e-10)
    plane, _ = io.read_table(workspace / "results/landscapes/L_plane.parquet")
    directions, _ = io.read_table(workspace / "results/landscapes/L_plane.directions.parquet")
    for _, row in plane.sample(3, random_state=0).iterrows():
        flat = net.flat + row["a"] * directions["d1"].to_numpy() \
            + row["b"] * directions["d2"].to_numpy()
        assert row["loss"] == pytest.approx(_moved_mse(model, flat, X[rows], Y[rows]), rel=1e-10)


@pytest.mark.parametrize("name", ["L_slice", "L_input", "L_plane", "L_hessian"])
def test_the_api_writes_the_same_files(workspace, name, tmp_path):
    spec = dict(CONFIG["landscapes"][name])
    model, X, Y, split = trained_network(workspace, CONFIG, spec["network"])
    kind = spec.pop("kind")
    network = spec.pop("network")
    spec.pop("tiles", None)
    rows = np.asarray(split["train"])
    heldout = np.setdiff1d(np.arange(len(Y)), rows)
    options = {"name": name, "network": network, **spec}
    X_train = X[rows]
    if kind == "input_space":  # features by name: the data's own columns
        X_train = pd.DataFrame(X_train, columns=["Chins", "Situps", "Jumps"])
    else:
        options["heldout"] = (X[heldout], Y[heldout])
    result = getattr(sl, kind)(model, X_train, Y[rows], **options)
    path = workspace / f"results/landscapes/{name}.parquet"
    expected, metadata = io.read_table(path)
    pd.testing.assert_frame_equal(result.frame, expected, check_exact=True)


def test_every_figure_and_run_was_made(workspace):
    figures = workspace / "results" / "figures"
    for name in [*CONFIG["landscapes"], "fit_L", "dataset_linnerud", "dataset_body"]:
        assert list(figures.glob(f"*{name}*.png")), name
    for name in CONFIG["analyses"]:
        assert list(figures.glob(f"*_{name}*")), name
    _, runs = tracked_runs(workspace, CONFIG["experiment"])
    assert runs and {run.info.status for run in runs} == {"FINISHED"}
    assert snakemake(workspace, "-n", "--cores", "1").stdout.count("rule ") == 0


BAD = [
    (lambda c: c["networks"]["L"].update(estimator="classifier"),
     "networks.L.estimator: a classifier learns one target column, but dataset 'linnerud' "
     "has 3"),
    (lambda c: c["datasets"]["body"].update(targets=["Weight", "Chins"]),
     "datasets.body.targets: column 'Chins' is also one of the features"),
    (lambda c: c["datasets"]["body"].update(target="Waist"),
     "datasets.body: give only one of 'target', 'targets', not both"),
    (lambda c: c["datasets"]["body"].update(targets=["Weight", "Height"]),
     "no column 'Height'"),
]


@pytest.mark.parametrize("edit, message", BAD)
def test_bad_multi_output_configs_are_named_before_any_job(workspace, edit, message):
    with config_edit(workspace, CONFIG) as config:
        config["landscapes"] = {}
        config["analyses"] = {}
        edit(config)
        write_config(workspace, config)
        result = snakemake(workspace, "-n", "--cores", "1", check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
