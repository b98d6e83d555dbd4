"""A multi-output MLPRegressor (scikit-learn's linnerud: 3 exercises -> 3 body measures)
through every kind: each cell against sklearn.metrics.mean_squared_error of predict (the
mean over rows and outputs, scikit-learn's own loss without its half), with the weights set
in a copy of the fitted model."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_linnerud
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_squared_error
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklandscape as sl
from conftest import fd_hessian
from sklandscape.model.gradients import hessian, sample_loss_input_gradient

RTOL = 1e-10


@pytest.fixture(scope="module")
def linnerud():
    X, Y = load_linnerud(return_X_y=True)
    Y = (Y - Y.mean(axis=0)) / Y.std(axis=0)  # pulse and weight on one scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make_pipeline(StandardScaler(), MLPRegressor(
            hidden_layer_sizes=(6,), activation="tanh", max_iter=400, random_state=0)).fit(X, Y)
    assert model[-1].n_outputs_ == 3
    return model, X, Y


def _moved(model, flat):
    net = sl.Network.from_estimator(model)
    clone = copy.deepcopy(model)
    clone[-1].coefs_, clone[-1].intercepts_ = net.with_flat(flat).to_estimator_arrays()
    return clone


def _mse(model, flat, X, Y):
    return mean_squared_error(Y, _moved(model, flat).predict(X))


def _cells(frame, k=4):
    return frame.iloc[np.random.default_rng(0).choice(len(frame), k, replace=False)]


def test_weight_slices_and_planes_equal_the_mse_of_predict(linnerud):
    model, X, Y = linnerud
    net = sl.Network.from_estimator(model)
    # an output weight (plain pass: the structured engine maps one output) and a hidden one
    result = sl.weights(model, X, Y, axes=("W1[0,1]", "W2[2,1]"), span=2.0, resolution=9)
    for _, row in _cells(result.frame).iterrows():
        flat = net.with_values({"W1[0,1]": row["W1[0,1]"], "W2[2,1]": row["W2[2,1]"]}).flat
        assert row["loss"] == pytest.approx(_mse(model, flat, X, Y), rel=RTOL)
    assert result.metrics["loss_centre"] == pytest.approx(
        mean_squared_error(Y, model.predict(X)), rel=RTOL)
    pairs = sl.weight_pairs(model, X, Y, axes=["W1[1,0]", "b1[3]", "b2[0]"], resolution=5)
    for _, row in _cells(pairs.frame).iterrows():
        flat = net.with_values({row["x_name"]: row["x"], row["y_name"]: row["y"]}).flat
        assert row["loss"] == pytest.approx(_mse(model, flat, X, Y), rel=RTOL)
    plane = sl.random_plane(model, X, Y, seeds=[1], resolution=7, heldout=(X[:5], Y[:5]))
    d = plane.tables["directions"]
    for _, row in _cells(plane.frame).iterrows():
        flat = net.flat + row["a"] * d["d1"].to_numpy() + row["b"] * d["d2"].to_numpy()
        assert row["loss"] == pytest.approx(_mse(model, flat, X, Y), rel=RTOL)
        assert row["loss_heldout"] == pytest.approx(_mse(model, flat, X[:5], Y[:5]), rel=RTOL)
    hess = sl.hessian_plane(model, X, Y, resolution=5)
    d = hess.tables["directions"]
    for _, row in _cells(hess.frame).iterrows():
        flat = net.flat + row["a"] * d["d1"].to_numpy() + row["b"] * d["d2"].to_numpy()
        assert row["loss"] == pytest.approx(_mse(model, flat, X, Y), rel=RTOL)


def test_a_recorded_fit_interpolation_and_its_pca_plane(linnerud):
    _, X, Y = linnerud
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = sl.fit(make_pipeline(StandardScaler(), MLPRegressor(
            hidden_layer_sizes=(5,), max_iter=60, random_state=1)), X, Y)
    model = fit.model
    line = sl.interpolation(model, X, Y, fit, resolution=7)
    start, end = fit.trajectory.initial, fit.trajectory.final
    for _, row in _cells(line.frame).iterrows():
        flat = (1 - row["alpha"]) * start + row["alpha"] * end
        assert row["loss"] == pytest.approx(_mse(model, flat, X, Y), rel=1e-9)
    pca = sl.trajectory_pca(model, X, Y, fit, resolution=5)
    net = sl.Network.from_estimator(model)
    d1, d2 = (np.asarray(pca.metadata["directions"][k]) for k in ("d1", "d2"))
    for _, row in _cells(pca.frame).iterrows():
        flat = net.flat + row["a"] * d1 + row["b"] * d2
        assert row["loss"] == pytest.approx(_mse(model, flat, X, Y), rel=1e-9)


def test_input_map_compares_every_output_with_the_nearest_rows_targets(linnerud):
    model, X, Y = linnerud
    result = sl.input_space(model, X, Y, features=[0, 2], resolution=7)
    frame = result.frame
    assert list(frame.columns) == ["x0", "x2", "target_0", "target_1", "target_2",
                                   "prediction_0", "prediction_1", "prediction_2", "loss"]
    reference = np.median(X, axis=0)
    for _, row in _cells(frame).iterrows():
        point = reference.copy()
        point[[0, 2]] = row["x0"], row["x2"]
        nearest = np.argmin(np.hypot(X[:, 0] - row["x0"], X[:, 2] - row["x2"]))
        predicted = model.predict(point[None, :])[0]
        np.testing.assert_allclose(row[["prediction_0", "prediction_1", "prediction_2"]],
                                   predicted, rtol=RTOL)
        np.testing.assert_array_equal(row[["target_0", "target_1", "target_2"]], Y[nearest])
        assert row["loss"] == pytest.approx(np.mean((predicted - Y[nearest]) ** 2), rel=RTOL)
    attack = sl.input_attack(model, X, Y, result, steps=3)
    worst = attack.tables["worst_inputs"]
    each = np.mean((model.predict(X) - Y) ** 2, axis=1)
    assert worst["error"].to_numpy() == pytest.approx(np.sort(each)[::-1][: len(worst)], rel=RTOL)


def test_hessian_and_input_gradient_equal_finite_differences(linnerud):
    model, X, Y = linnerud
    small = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(2,), max_iter=50,
                                                         random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        small.fit(X, Y)
    net = sl.Network.from_estimator(small)
    exact = hessian(net, X, Y)
    reference = fd_hessian(lambda flat: _mse(small, flat, X, Y), net.flat, h=1e-4)
    np.testing.assert_allclose(exact, reference, atol=2e-6 * np.abs(exact).max())
    value, gradient = sample_loss_input_gradient(net, X[:4], Y[:4])
    np.testing.assert_allclose(value, np.mean((small.predict(X[:4]) - Y[:4]) ** 2, axis=1),
                               rtol=RTOL)
    h = 1e-4
    for k in range(X.shape[1]):
        step = np.zeros(X.shape[1])
        step[k] = h
        up = np.mean((small.predict(X[:4] + step) - Y[:4]) ** 2, axis=1)
        down = np.mean((small.predict(X[:4] - step) - Y[:4]) ** 2, axis=1)
        np.testing.assert_allclose(gradient[:, k], (up - down) / (2 * h), rtol=1e-5, atol=1e-9)


def test_analyses_run_on_a_multi_output_slice(linnerud):
    model, X, Y = linnerud
    landscape = sl.weights(model, X, Y, axes=("W1[0,0]", "W2[1,2]"), span=1.0, resolution=7)
    curvature = sl.curvature(model, X, Y, landscape)
    net = sl.Network.from_estimator(model)
    eigenvalues = np.linalg.eigvalsh(hessian(net, X, Y))
    top = curvature.tables["hessian"]
    assert top["eigenvalue"].max() == pytest.approx(eigenvalues.max(), rel=1e-9)
    runs = sl.optimizers(model, X, Y, landscape, [[0.5, -0.5]], max_steps=20)
    assert len(runs.tables["optimizer_runs"])
    rates = sl.learning_rates(model, X, Y, max_iter=5)
    assert len(rates.tables["rates"])
    other = make_pipeline(StandardScaler(), MLPRegressor(
        hidden_layer_sizes=(6,), activation="tanh", max_iter=400, random_state=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        other.fit(X, Y)
    link = sl.connectivity([model, other], X, Y, resolution=5, curve_max_iter=5, plane_resolution=5)
    paths = link.tables["paths"]
    ends = paths[paths["t"].isin([0.0, 1.0]) & (paths["path"] == "linear")]
    assert sorted(ends["loss"]) == pytest.approx(sorted(
        [mean_squared_error(Y, m.predict(X)) for m in (model, other)]), rel=RTOL)


def test_a_target_of_the_wrong_shape_is_named(linnerud):
    model, X, Y = linnerud
    with pytest.raises(ValueError, match=r"one column per output.*\(n_samples, 3\).*\(20, 2\)"):
        sl.weights(model, X, Y[:, :2], axes=("W1[0,0]", "b2[0]"))
    with pytest.raises(ValueError, match=r"one column per output.*\(20,\)"):
        sl.random_plane(model, X, Y[:, 0])


def test_a_single_target_function_for_several_outputs_is_named(linnerud):
    model, X, Y = linnerud
    with pytest.raises(ValueError, match=r"network has 3 outputs, so it needs one target per "
                                         r"output, shape \(25, 3\)"):
        sl.input_space(model, X, Y, target="sine", resolution=5)
