"""The direction kinds' stage on real trained networks: every table's numbers against predict,
every file the registry says the job writes."""

import copy
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from sklandscape import io
from sklandscape.api.directions import interpolation_shape
from sklandscape.data.datasets import generate, split_xy
from sklandscape.engine.slice_statistics import slice_statistics, statistics_columns
from sklandscape.kinds import job_outputs
from sklandscape.model.network import Network
from sklandscape.pipeline.stages import directions as direction_stages
from sklandscape.pipeline.stages import training

N1_SETTINGS = dict(hidden_layer_sizes=[2], activation="tanh", solver="lbfgs", alpha=0.0,
                   max_iter=200, tol=1e-6, random_state=0)
N2_SETTINGS = dict(hidden_layer_sizes=[4, 3], activation="tanh", solver="adam", alpha=0.0,
                   max_iter=40, tol=1e-6, random_state=0, learning_rate_init=0.01)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """N1-like (lbfgs, 1 input) and N2-like (adam, 2 inputs) networks, trained and recorded."""
    root = tmp_path_factory.mktemp("directions")
    out = {}
    for name, settings, spec in [
        ("N1", N1_SETTINGS, dict(function="sine", n_samples=60, domain=[[-3.0, 3.0]],
                                 sampling="grid")),
        ("N2", N2_SETTINGS, dict(function="waves_with_spike", n_samples=120,
                                 domain=[[-3.0, 3.0], [-3.0, 3.0]], seed=1)),
    ]:
        io.write_table(generate(**spec), root / f"{name}_data.parquet")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = training.train(root / f"{name}_data.parquet", settings,
                                    model=root / f"{name}.skops", weights=root / f"{name}_w.parquet",
                                    initial_weights=root / f"{name}_init.parquet",
                                    trajectory=root / f"{name}_traj.parquet")
        out[name] = dict(model=result.model, weights=root / f"{name}_w.parquet",
                         data=root / f"{name}_data.parquet", init=root / f"{name}_init.parquet",
                         trajectory=root / f"{name}_traj.parquet")
    out["root"] = root
    return out


def run_stage(kind, net, spec, name, root, **reads):
    """The stage of `kind` on network `net` of the fixture: its metrics, and its files by
    output name (every one but the 3-D page, which the job's script writes)."""
    written = {key: root / name / path.format(name=name)
               for key, path in job_outputs(kind).items() if key != "page"}
    for path in written.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    result = direction_stages.direction_landscape(
        kind, {"weights": net["weights"], "data": net["data"], **reads}, spec, "hash", name,
        written)
    assert all(path.stat().st_size > 0 for path in written.values())
    return result.metrics, written


def xy(path, rows=None):
    X, y = split_xy(io.read_table(path)[0])
    return (X, y) if rows is None else (X[rows], y[rows])


def predict_mse(model, flat, X, y):
    net = Network.from_estimator(model)
    model = copy.deepcopy(model)  # the fixture's model stays as trained
    model.coefs_, model.intercepts_ = Network(
        net.layer_sizes, net.activation, net.out_activation, flat).to_estimator_arrays()
    return float(np.mean((model.predict(X) - y) ** 2))


def test_weight_pairs_tables_and_corner_plot(trained):
    root, n1 = trained["root"], trained["N1"]
    spec = dict(network="N1", kind="weight_pairs", axes="all", span=2.0, resolution=7,
                samples=[10])
    metrics, files = run_stage("weight_pairs", n1, spec, "N1_pairs", root)
    paths = [files[k] for k in ("table", "stats", "csv", "html", "figure", "topology")]
    topology, topology_meta = io.read_table(paths[5])
    assert topology_meta["topology"]["threshold"] == 0.01
    assert metrics["topology_grids"] == 21 == topology.groupby(["x_name", "y_name"]).ngroups
    for _, points in topology.groupby(["x_name", "y_name"]):  # the Euler relation, per pair
        counts = points.groupby("type")["multiplicity"].sum()
        assert counts.get("minimum", 0) - counts.get("saddle", 0) + counts.get("maximum", 0) == 1
    table, meta = io.read_table(paths[0])
    stats, _ = io.read_table(paths[1])
    assert list(table.columns) == ["x_name", "y_name", "x", "y", "loss"]
    assert len(table) == 21 * 49 and len(stats) == 21 and metrics["n_pairs"] == 21
    X, y = xy(n1["data"], [10])
    net = Network.from_estimator(n1["model"])
    rng = np.random.default_rng(0)
    for row in table.iloc[rng.integers(0, len(table), 15)].itertuples():
        moved = net.with_values({row.x_name: row.x, row.y_name: row.y}).flat
        assert row.loss == pytest.approx(predict_mse(n1["model"], moved, X, y), rel=1e-10)
    expected_centre = float(np.mean((n1["model"].predict(X) - y) ** 2))
    assert stats["loss_centre"].tolist() == pytest.approx([expected_centre] * 21, rel=1e-12)
    assert meta["centre"]["loss"] == pytest.approx(expected_centre, rel=1e-12)
    assert metrics["loss_min"] == pytest.approx(table["loss"].min())
    assert list(stats.columns) == ["x_name", "y_name", *statistics_columns()]
    # the CSV is the Parquet table, value for value; the HTML lists every pair and sorts
    pd.testing.assert_frame_equal(pd.read_csv(paths[2]), stats, check_exact=True)
    page = paths[3].read_text()
    assert page.count("<tr") == 22 and 'class="dataframe sortable"' in page
    assert paths[4].read_bytes()[:4] == b"\x89PNG"


def test_random_plane_tables_reproduce_predict(trained):
    root, n2 = trained["root"], trained["N2"]
    spec = dict(network="N2", kind="random_plane", seeds=[3, 8], span=1.0, resolution=5,
                samples="all", zero_biases=True)
    metrics, files = run_stage("random_plane", n2, spec, "N2_plane", root)
    paths = [files[k] for k in ("table", "directions", "stats", "csv", "figure",
                                "seed_spread_figure")]
    assert "One row per seed" in files["html"].read_text()
    table, meta = io.read_table(paths[0])
    directions, _ = io.read_table(paths[1])
    stats, _ = io.read_table(paths[2])
    assert list(table.columns) == ["seed", "a", "b", "loss"] and len(table) == 2 * 25
    assert stats["seed"].tolist() == [3, 8]
    X, y = xy(n2["data"])
    net = Network.from_estimator(n2["model"])
    for row in table.iloc[[0, 7, 12, 31, 49]].itertuples():
        d = directions[directions["seed"] == row.seed]
        assert d["name"].tolist() == net.names
        moved = net.flat + row.a * d["d1"].to_numpy() + row.b * d["d2"].to_numpy()
        assert row.loss == pytest.approx(predict_mse(n2["model"], moved, X, y), rel=1e-10)
    # per seed: the statistics describe that seed's grid
    first = table[table["seed"] == 3]["loss"]
    assert stats["loss_max"].iloc[0] == first.max() and stats["loss_min"].iloc[0] == first.min()
    assert metrics["seeds.loss_max.mean"] == pytest.approx(stats["loss_max"].mean())
    assert metrics["seeds.loss_max.std"] == pytest.approx(stats["loss_max"].std(ddof=0))
    assert meta["centre"]["loss"] == pytest.approx(
        float(np.mean((n2["model"].predict(X) - y) ** 2)), rel=1e-12)


def test_interpolation_table_ends_are_the_initial_and_trained_models(trained):
    root, n1 = trained["root"], trained["N1"]
    spec = dict(network="N1", kind="interpolation", alpha_range=[-0.5, 1.5], resolution=41,
                samples="all")
    metrics, files = run_stage("interpolation", n1, spec, "N1_line", root,
                               initial_weights=n1["init"])
    table, _ = io.read_table(files["table"])
    X, y = xy(n1["data"])
    initial = io.read_weights(n1["init"])
    at = dict(zip(table["alpha"], table["loss"]))
    assert at[0.0] == pytest.approx(predict_mse(n1["model"], initial.flat, X, y), rel=1e-12)
    assert at[1.0] == pytest.approx(float(np.mean((n1["model"].predict(X) - y) ** 2)), rel=1e-12)
    assert metrics["loss_initial"] == pytest.approx(at[0.0], rel=1e-12)
    trained_flat = Network.from_estimator(n1["model"]).flat
    assert metrics["distance"] == pytest.approx(np.linalg.norm(trained_flat - initial.flat))


def test_trajectory_pca_path_table(trained):
    root, n2 = trained["root"], trained["N2"]
    spec = dict(network="N2", kind="trajectory_pca", resolution=7, margin=0.25, samples="all")
    metrics, files = run_stage("trajectory_pca", n2, spec, "N2_pca", root,
                               trajectory=n2["trajectory"])
    path, meta = io.read_table(files["path"])
    grid, _ = io.read_table(files["table"])
    _, states, _ = io.read_trajectory(n2["trajectory"])
    X, y = xy(n2["data"])
    d1, d2 = (np.array(meta["directions"][k]) for k in ("d1", "d2"))
    origin = states[-1]
    assert len(path) == len(states) == 41 and metrics["n_path_points"] == 41
    for k in (0, 5, 20, 40):
        row = path.iloc[k]
        assert row["loss"] == pytest.approx(predict_mse(n2["model"], states[k], X, y), rel=1e-10)
        projected = origin + row["a"] * d1 + row["b"] * d2
        assert row["loss_projected"] == pytest.approx(predict_mse(n2["model"], projected, X, y),
                                                      rel=1e-10)
        coefficients, *_ = np.linalg.lstsq(np.stack([d1, d2], axis=1), states[k] - origin,
                                           rcond=None)
        assert row["distance"] == pytest.approx(
            np.linalg.norm(states[k] - origin - np.stack([d1, d2], 1) @ coefficients), abs=1e-12)
    assert metrics["distance_max"] == path["distance"].max()
    assert metrics["explained_total"] == pytest.approx(sum(meta["explained"]))
    # the grid point nearest to the origin is the trained loss; the grid covers the path
    assert grid["a"].min() < path["a"].min() and grid["b"].max() > path["b"].max()
    row = grid.iloc[[((grid["a"] - a) ** 2 + (grid["b"] - b) ** 2).idxmin()
                     for a, b in [(path["a"].iloc[3], path["b"].iloc[3])]]].iloc[0]
    moved = origin + row["a"] * d1 + row["b"] * d2
    assert row["loss"] == pytest.approx(predict_mse(n2["model"], moved, X, y), rel=1e-10)


def test_trajectory_from_another_training_is_refused(trained):
    root = trained["root"]
    spec = dict(network="N1", kind="trajectory_pca", resolution=5, samples="all")
    with pytest.raises(ValueError, match="does not end at the weights in .*retrain"):
        run_stage("trajectory_pca", trained["N1"], spec, "bad", root,
                  trajectory=trained["N2"]["trajectory"])
    assert not (root / "bad").exists() or not any((root / "bad").rglob("*.parquet"))


# --- statistics --------------------------------------------------------------------------


def test_statistics_of_a_known_quadratic():
    a, b = np.linspace(-2, 2, 41), np.linspace(-1, 3, 21)  # steps 0.1 and 0.2
    A, B = np.meshgrid(a, b, indexing="ij")
    loss = 4 * (A - 0.5) ** 2 + (B - 1.0) ** 2 + 0.1
    stats = slice_statistics(a, b, loss, (0.0, 0.0), loss_centre=4 * 0.25 + 1 + 0.1)
    assert stats["loss_min"] == pytest.approx(0.1) and stats["argmin_x"] == pytest.approx(0.5)
    assert stats["argmin_y"] == pytest.approx(1.0) and stats["min_at_centre"] == 0.0
    assert stats["drop"] == pytest.approx(2.0)
    # cut along x at y = 0: 4 (x - 0.5)^2 over [-2, 2] -> max 25 at -2, min 0 at 0.5
    assert stats["range_x"] == pytest.approx(25.0)
    # cut along y at x = 0: (y - 1)^2 over [-1, 3] -> max 4, min 0
    assert stats["range_y"] == pytest.approx(4.0)
    assert stats["anisotropy"] == pytest.approx(25.0 / 4.0)
    assert stats["loss_max"] == pytest.approx(4 * 6.25 + 4 + 0.1)


def test_statistics_with_a_flat_axis_and_holes():
    a = b = np.linspace(-1, 1, 5)
    loss = np.tile(a[:, None] ** 2, (1, 5))
    loss[0, 0] = np.nan
    stats = slice_statistics(a, b, loss, (0.0, 0.0), 0.0, axis_names=("a", "b"))
    assert stats["range_b"] == 0.0 and stats["anisotropy"] == math.inf
    assert stats["n_nonfinite"] == 1 and stats["argmin_a"] == 0.0
    empty = slice_statistics(a, b, np.full((5, 5), np.nan), (0.0, 0.0), 1.0)
    assert math.isnan(empty["loss_min"]) and empty["n_nonfinite"] == 25


@pytest.mark.parametrize("curve,monotone,barrier", [
    (lambda t: 1 - t, 1.0, 0.0),
    (lambda t: 1 - t + 2 * np.exp(-((t - 0.5) ** 2) / 0.01), 0.0, pytest.approx(1.5, abs=0.01)),
])
def test_interpolation_shape(curve, monotone, barrier):
    alphas = np.linspace(-0.5, 1.5, 201)
    loss = curve(alphas)
    shape = interpolation_shape(alphas, loss, float(curve(0.0)), float(curve(1.0)))
    assert shape["monotone_between"] == monotone
    assert shape["barrier"] == barrier


def test_too_many_weights_for_a_corner_plot_is_refused_before_any_work(trained):
    root, n2 = trained["root"], trained["N2"]
    spec = dict(network="N2", kind="weight_pairs", axes="all", span=1.0, resolution=3)
    with pytest.raises(ValueError, match="465 pairs of 31 weights .* list the weights to pair"):
        run_stage("weight_pairs", n2, spec, "big", root)
    assert not any(path.is_file() for path in (root / "big").rglob("*"))
