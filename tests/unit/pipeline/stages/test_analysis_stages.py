"""The analysis stages and their figures, without Snakemake: real files in a temp directory,
results checked against MLPRegressor.predict and brute force."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from sklandscape import io
from sklandscape.data.datasets import generate, generating_function, split_xy
from sklandscape.model.network import Network
from sklandscape.model.training import fit_mlp
from sklandscape.pipeline.stages import analyses, landscapes

CURVE = {"function": "sine", "n_samples": 30, "domain": [[-3.0, 3.0]], "sampling": "grid"}
SURFACE = {"function": "waves_with_spike", "n_samples": 120, "domain": [[-3.0, 3.0], [-3.0, 3.0]],
           "seed": 2}
OPTIMIZERS = {"kind": "optimizers", "landscape": "n1_one",
              "start_offsets": [[-1.0, 1.0], [1.0, 0.5]],
              "learning_rates": [1e-3, 1e-2, 0.1], "epsilon": 1e-3, "max_steps": 60,
              "methods": {"gd": {}, "momentum": {"beta": 0.9}, "nesterov": {"beta": 0.9},
                          "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}}}
ATTACK = {"kind": "input_attack", "landscape": "n2_input", "top_k": 5, "arrows": 6,
          "ascent": {"step_size": 0.05, "steps": 6, "radius": 0.2}}
# input_attack's table outputs, by keyword
ATTACK_TABLES = ("worst", "ascent", "paths", "field")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("analyses")
    paths = {}
    for name, spec, hidden in (("curve", CURVE, (2,)), ("surface", SURFACE, (5, 4))):
        frame = generate(**spec)
        io.write_table(frame, root / f"{name}.parquet", {"dataset": spec})
        X, y = split_xy(frame)
        model = fit_mlp(X, y, {"hidden_layer_sizes": list(hidden), "activation": "tanh",
                               "solver": "lbfgs", "alpha": 0.0, "max_iter": 200,
                               "random_state": 0}).model
        io.write_weights(Network.from_estimator(model), root / f"{name}_weights.parquet")
        paths[name] = (root / f"{name}.parquet", root / f"{name}_weights.parquet", model)
    data, weights, _ = paths["curve"]
    spec = {"network": "N1", "kind": "weights", "axes": ["W1[0,0]", "W2[0,0]"], "span": 1.5,
            "resolution": 9, "samples": [12]}
    landscapes.weights_landscape(weights, data, root / "n1_one.parquet", spec, "0" * 16)
    data, weights, _ = paths["surface"]
    landscapes.input_space_landscape(weights, data, root / "n2_input.parquet",
                                 {"network": "N2", "kind": "input_space", "resolution": 15,
                                  "margin": 0.5}, "waves_with_spike", "0" * 16)
    paths["root"] = root
    return paths


def _curvature_tables(folder):
    return {table: folder / f"{table}.parquet" for table in analyses.CURVATURE_TABLES}


def test_curvature_stage_uses_the_landscapes_samples(files):
    root = files["root"]
    data, weights, model = files["curve"]
    out = root / "curvature"
    spec = {"kind": "curvature", "landscape": "n1_one", "plateau_threshold": 0.5}
    metrics, tags = analyses.curvature(weights, data, root / "n1_one.parquet", spec,
                                       tables=_curvature_tables(out))
    table, meta = io.read_table(out / "hessian.parquet")
    X, y = split_xy(io.read_table(data)[0])
    # one data point, row 12: its loss at the trained weights, through predict
    assert meta["loss"] == pytest.approx(float((model.predict(X[[12]])[0] - y[12]) ** 2), rel=1e-10)
    # Seven weights: the exact path, every eigenvalue in the table, the matrix beside it.
    assert meta["method"] == "exact" and table["which"].tolist() == ["all"] * 7
    matrix, _ = io.read_table(out / "hessian_matrix.parquet")
    # eigvalsh and the stage's eigh round differently: near-zero eigenvalues agree to the
    # backward error of a symmetric eigensolver, size x eps x |H|, not to 1e-14
    scale = len(table) * np.finfo(float).eps * np.abs(table["eigenvalue"]).max()
    np.testing.assert_allclose(np.linalg.eigvalsh(matrix.drop(columns="weight").to_numpy()),
                               table["eigenvalue"], rtol=1e-10, atol=scale)
    assert metrics["hessian_eig_max"] == table["eigenvalue"].max()
    assert metrics["hessian_trace"] == pytest.approx(table["eigenvalue"].sum(), rel=1e-12)
    assert not any(key.startswith("hessian_eig_") and key[-1].isdigit() for key in metrics)
    # one data point: flat directions W1[0,j] x + b1[j] = const make it not strictly convex
    assert metrics["is_strictly_convex"] == 0.0 and tags["strictly_convex"] == "no"
    cmap, map_meta = io.read_table(out / "curvature_map.parquet")
    landscape, _ = io.read_table(root / "n1_one.parquet")
    np.testing.assert_allclose(cmap["loss"], landscape["loss"], rtol=1e-12)
    assert metrics["plateau_fraction"] == float(np.mean(cmap["grad_norm"] < 0.5))
    assert map_meta["slice_minimum"]["loss"] <= landscape["loss"].min()


def test_a_stale_landscape_is_refused(files, tmp_path):
    root = files["root"]
    data, weights, _ = files["curve"]
    net = io.read_weights(weights)
    changed = Network(net.layer_sizes, net.activation, net.out_activation, net.flat + 0.1)
    io.write_weights(changed, tmp_path / "other_weights.parquet")
    with pytest.raises(ValueError, match="out of date"):
        analyses.curvature(tmp_path / "other_weights.parquet", data, root / "n1_one.parquet",
                           {"plateau_threshold": 1.0}, tables=_curvature_tables(tmp_path))
    assert not (tmp_path / "h.parquet").exists()


def test_analyses_refuse_the_wrong_landscape_kind(files, tmp_path):
    root = files["root"]
    data, weights, _ = files["surface"]
    with pytest.raises(ValueError, match="kind 'weights', not 'input_space'"):
        analyses.curvature(weights, data, root / "n2_input.parquet", {"plateau_threshold": 1.0},
                           tables=_curvature_tables(tmp_path))
    data, weights, _ = files["curve"]
    with pytest.raises(ValueError, match="kind 'input_space'"):
        analyses.input_attack(weights, data, root / "n1_one.parquet", ATTACK, "sine",
                              **{k: tmp_path / f"{k}.parquet" for k in ATTACK_TABLES})


def test_optimizer_stage_tables_and_metrics(files):
    root = files["root"]
    data, weights, _ = files["curve"]
    out = root / "optimizers"
    metrics, tags = analyses.optimizers(
        weights, data, root / "n1_one.parquet", OPTIMIZERS, runs=out / "optimizer_runs.parquet",
        paths=out / "optimizer_paths.parquet")
    runs, meta = io.read_table(out / "optimizer_runs.parquet")
    paths, _ = io.read_table(out / "optimizer_paths.parquet")
    assert len(runs) == 4 * 3 * 2 and runs.groupby("method")["chosen"].sum().eq(2).all()
    assert len(paths) == 4 * 2 * 61
    net = io.read_weights(weights)
    centre = np.array([net.value("W1[0,0]"), net.value("W2[0,0]")])
    first = paths[paths["step"] == 0][["u0", "u1"]].to_numpy()
    np.testing.assert_allclose(first[:2], centre + np.array(OPTIMIZERS["start_offsets"]))
    (lo0, hi0), (lo1, hi1) = meta["window"]
    assert paths["u0"].between(lo0, hi0).all() and paths["u1"].between(lo1, hi1).all()
    for method in ("gd", "momentum", "nesterov", "adam"):
        chosen = runs[(runs["method"] == method) & runs["chosen"]]
        steps = chosen["steps_to_eps"].to_numpy()
        expected = steps.max() if np.isfinite(steps).all() else np.nan
        np.testing.assert_equal(metrics[f"steps_to_eps_{method}"], expected)
    assert tags["verdict_momentum"] == meta["verdict"]
    # one data point: the minimum is a curve of exact fits, so no distance to it is reported
    assert meta["minimum_is_isolated"] is False and np.isnan(metrics["final_distance_gd"])
    assert "not isolated" in meta["verdict"]
    # path losses are the slice's MSE at those weights, through predict
    model = files["curve"][2]
    X, y = split_xy(io.read_table(data)[0])
    row = paths.iloc[100]
    flat = net.with_values({"W1[0,0]": row["u0"], "W2[0,0]": row["u1"]})
    model.coefs_, model.intercepts_ = flat.to_estimator_arrays()
    assert row["loss"] == pytest.approx(float((model.predict(X[[12]])[0] - y[12]) ** 2), rel=1e-9)


def test_starts_outside_the_window_are_refused(files, tmp_path):
    root = files["root"]
    data, weights, _ = files["curve"]
    spec = dict(OPTIMIZERS, start_offsets=[[0.0, 0.0], [2.0, 0.0]])
    with pytest.raises(ValueError, match=r"start_offsets \[\[2.0, 0.0\]\]"):
        analyses.optimizers(weights, data, root / "n1_one.parquet", spec,
                            runs=tmp_path / "r.parquet", paths=tmp_path / "p.parquet")


def test_input_attack_stage_against_predict(files):
    root = files["root"]
    data, weights, model = files["surface"]
    out = root / "attack"
    names = ("worst_inputs", "ascent", "ascent_paths", "gradient_field")
    metrics, _ = analyses.input_attack(
        weights, data, root / "n2_input.parquet", ATTACK, "waves_with_spike",
        **{key: out / f"{n}.parquet" for key, n in zip(ATTACK_TABLES, names)})
    X, _ = split_xy(io.read_table(data)[0])
    error = (model.predict(X) - generating_function("waves_with_spike")(X)) ** 2
    worst, _ = io.read_table(out / "worst_inputs.parquet")
    np.testing.assert_array_equal(worst["row"], np.argsort(-error, kind="stable")[:5])
    np.testing.assert_allclose(worst["error"], np.sort(error)[::-1][:5], rtol=1e-12)
    found, _ = io.read_table(out / "ascent.parquet")
    target = generating_function("waves_with_spike")(found[["x0", "x1"]].to_numpy())
    np.testing.assert_allclose(found["error"],
                               (model.predict(found[["x0", "x1"]].to_numpy()) - target) ** 2,
                               rtol=1e-10, atol=1e-15)
    assert (found["gain"] >= 0).all()
    assert metrics["ascent_error_ratio"] == pytest.approx(found["error"].mean() / error.mean())
    assert metrics["worst_error"] == pytest.approx(error.max())


def test_every_figure_renders_without_warnings(files, tmp_path):
    root = files["root"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data, weights, _ = files["curve"]
        spec = {"kind": "curvature", "landscape": "n1_one", "plateau_threshold": 0.5}
        analyses.curvature(weights, data, root / "n1_one.parquet", spec,
                           tables=_curvature_tables(tmp_path),
                           figures={"hessian": tmp_path / "h.png", "spectrum": tmp_path / "s.png",
                            "cuts": tmp_path / "u.png", "convexity": tmp_path / "c.png",
                            "plateau": tmp_path / "p.png"})
        analyses.optimizers(weights, data, root / "n1_one.parquet", OPTIMIZERS,
                            runs=tmp_path / "r.parquet", paths=tmp_path / "q.parquet",
                            png=tmp_path / "o.png")
        data, weights, _ = files["surface"]
        analyses.input_attack(weights, data, root / "n2_input.parquet", ATTACK, "waves_with_spike",
                              **{k: tmp_path / f"{k}.parquet" for k in ATTACK_TABLES},
                              png=tmp_path / "a.png")
    for name in "hsucpoa":
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_animation_has_frames_and_is_reproducible(files, tmp_path):
    data, weights, _ = files["curve"]
    for name in ("one.gif", "two.gif"):
        analyses.optimizers(weights, data, files["root"] / "n1_one.parquet", OPTIMIZERS,
                            runs=tmp_path / "r.parquet", paths=tmp_path / "q.parquet",
                            gif=tmp_path / name)
    with Image.open(tmp_path / "one.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames > 10
        gif.seek(0)
        first = np.asarray(gif.convert("RGB"))
        gif.seek(gif.n_frames - 1)
        last = np.asarray(gif.convert("RGB"))
    assert (first != last).any(), "the paths must grow from frame to frame"
    assert (tmp_path / "one.gif").read_bytes() == (tmp_path / "two.gif").read_bytes()
    assert not list(tmp_path.glob(".*.tmp*")), "no temporary file is left behind"
