"""The public API on real data nobody here made (scikit-learn's diabetes set) and a network of
thousands of weights: every kind's cells against MLPRegressor.predict, every figure drawn,
bad input refused with a clear message, and `import sklandscape` kept cheap."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPRegressor

import sklandscape as sl
from conftest import fitted_mlp

RTOL = 1e-9


@pytest.fixture(scope="module")
def diabetes():
    """Diabetes, z-scored, and a 10-64-32-1 tanh MLP fitted with its path recorded: 2,817 weights."""
    X, y = load_diabetes(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = (y - y.mean()) / y.std()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = sl.fit(MLPRegressor(hidden_layer_sizes=(64, 32), activation="tanh", max_iter=40,
                                  random_state=0), X, y)
    return fit, X, y


def _mse_with(model, flat, X, y) -> float:
    """The MSE through sklearn's own predict, with the model's weights set to `flat`."""
    net = sl.Network.from_estimator(model)
    clone = MLPRegressor(hidden_layer_sizes=model.hidden_layer_sizes,
                         activation=model.activation)
    clone.coefs_, clone.intercepts_ = sl.Network(net.layer_sizes, net.activation,
                                                 net.out_activation, flat).to_estimator_arrays()
    clone.n_outputs_, clone.n_layers_ = model.n_outputs_, model.n_layers_
    clone.out_activation_ = model.out_activation_
    return float(np.mean((clone.predict(X) - y) ** 2))


def _cells(frame, k=4, seed=0):
    return frame.iloc[np.random.default_rng(seed).choice(len(frame), size=k, replace=False)]


def test_the_network_has_thousands_of_weights(diabetes):
    fit, _, _ = diabetes
    assert sl.Network.from_estimator(fit.model).flat.size == 2817


def test_weights_cells_equal_predict(diabetes):
    fit, X, y = diabetes
    axes = ("W1[3,5]", "W3[7,0]")
    result = sl.weights(fit.model, X, y, axes=axes, span=0.8, resolution=21, samples=[1, 5, 400])
    assert list(result.frame.columns) == [*axes, "loss"] and len(result.frame) == 21 * 21
    net = sl.Network.from_estimator(fit.model)
    for _, row in _cells(result.frame).iterrows():
        flat = net.with_values({a: row[a] for a in axes}).flat
        assert row["loss"] == pytest.approx(_mse_with(fit.model, flat, X[[1, 5, 400]],
                                                      y[[1, 5, 400]]), rel=RTOL)
    assert result.metrics["loss_centre"] == pytest.approx(
        _mse_with(fit.model, net.flat, X[[1, 5, 400]], y[[1, 5, 400]]), rel=RTOL)


def test_weight_pairs_cells_equal_predict(diabetes):
    fit, X, y = diabetes
    result = sl.weight_pairs(fit.model, X, y, axes=["W1[0,0]", "b2[4]", "W3[1,0]"], resolution=9)
    assert len(result.tables["stats"]) == 3
    net = sl.Network.from_estimator(fit.model)
    for _, row in _cells(result.frame, 6).iterrows():
        flat = net.with_values({row["x_name"]: row["x"], row["y_name"]: row["y"]}).flat
        assert row["loss"] == pytest.approx(_mse_with(fit.model, flat, X, y), rel=RTOL)


def test_random_plane_cells_equal_predict(diabetes):
    fit, X, y = diabetes
    result = sl.random_plane(fit.model, X, y, seeds=[0, 7], resolution=11)
    directions = result.tables["directions"]
    net = sl.Network.from_estimator(fit.model)
    for _, row in _cells(result.frame, 6).iterrows():
        d = directions[directions["seed"] == row["seed"]]
        flat = net.flat + row["a"] * d["d1"].to_numpy() + row["b"] * d["d2"].to_numpy()
        assert row["loss"] == pytest.approx(_mse_with(fit.model, flat, X, y), rel=RTOL)


def test_interpolation_and_trajectory_pca_equal_predict(diabetes):
    fit, X, y = diabetes
    line = sl.interpolation(fit.model, X, y, fit, resolution=21)
    start = fit.trajectory.initial
    for _, row in _cells(line.frame).iterrows():
        flat = (1 - row["alpha"]) * start + row["alpha"] * fit.trajectory.final
        assert row["loss"] == pytest.approx(_mse_with(fit.model, flat, X, y), rel=1e-8)
    assert line.metrics["loss_initial"] == pytest.approx(_mse_with(fit.model, start, X, y),
                                                         rel=RTOL)
    plane = sl.trajectory_pca(fit.model, X, y, fit, resolution=9)
    d1, d2 = (np.asarray(plane.metadata["directions"][k]) for k in ("d1", "d2"))
    net = sl.Network.from_estimator(fit.model)
    for _, row in _cells(plane.frame).iterrows():
        flat = net.flat + row["a"] * d1 + row["b"] * d2
        assert row["loss"] == pytest.approx(_mse_with(fit.model, flat, X, y), rel=1e-8)
    path = plane.tables["path"]
    assert len(path) == len(fit.trajectory.states)
    assert path["loss"].iloc[-1] == pytest.approx(_mse_with(fit.model, net.flat, X, y), rel=RTOL)


def test_input_landscape_prediction_is_predict():
    model, X, y = fitted_mlp((6,), "relu", n_features=2, n=80)
    result = sl.input_space(model, X, y, resolution=15)
    points = result.frame[["x0", "x1"]].to_numpy()
    np.testing.assert_allclose(result.frame["prediction"], model.predict(points), rtol=1e-12)
    assert result.metadata["target"] == "y of the nearest data point"


def test_analyses_run_on_the_api_landscapes():
    model, X, y = fitted_mlp((2,), "tanh", n=60, max_iter=300)
    slice_ = sl.weights(model, X, y, axes=("W1[0,0]", "W2[0,0]"), span=1.0, resolution=15)
    curvature = sl.curvature(model, X, y, slice_)
    assert curvature.tags["strictly_convex"] in ("yes", "no")
    assert curvature.figure_names == ["hessian", "spectrum", "cuts", "convexity", "plateau"]
    optimizers = sl.optimizers(model, X, y, slice_, [[0.5, 0.5]], learning_rates=[0.01, 0.1],
                               max_steps=30)
    assert "verdict_momentum" in optimizers.tags
    model2, X2, y2 = fitted_mlp((5,), "tanh", n_features=2, n=60)
    plane = sl.input_space(model2, X2, y2, resolution=11, target="paraboloid")
    attack = sl.input_attack(model2, X2, y2, plane, top_k=3, arrows=4, steps=3)
    assert len(attack.tables["worst_inputs"]) == 3
    for result in (curvature, optimizers, attack):
        for which in result.figure_names:
            assert isinstance(result.plot(which), Figure)


def test_every_landscape_draws_a_figure(diabetes, tmp_path):
    fit, X, y = diabetes
    results = [
        sl.weights(fit.model, X, y, axes=("W1[0,0]", "W2[0,0]"), resolution=9),
        sl.weight_pairs(fit.model, X, y, axes=["W1[0,0]", "W2[0,0]"], resolution=5),
        sl.random_plane(fit.model, X, y, seeds=[0, 1], resolution=7),
        sl.interpolation(fit.model, X, y, fit, resolution=11),
        sl.trajectory_pca(fit.model, X, y, fit, resolution=7),
    ]
    for result in results:
        for which in result.figure_names:
            assert isinstance(result.plot(which), Figure)
        path = result.to_parquet(tmp_path / f"{result.kind}.parquet")
        assert path.read_bytes()[:4] == b"PAR1"


def test_bad_input_gets_a_clear_error(diabetes):
    fit, X, y = diabetes
    with pytest.raises(NotFittedError, match="not fitted yet"):
        sl.weights(MLPRegressor(), X, y, axes=("W1[0,0]", "W2[0,0]"))
    with pytest.raises(ValueError, match="X has 10 features but the network takes 1"):
        model, _, _ = fitted_mlp((2,), "tanh")
        sl.weights(model, X, y, axes=("W1[0,0]", "W2[0,0]"))
    with pytest.raises(ValueError, match="X has 442 rows but y has 441"):
        sl.weights(fit.model, X, y[:-1], axes=("W1[0,0]", "W2[0,0]"))
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"X has a NaN or infinite value at \(3, 2\)"):
        sl.weights(fit.model, bad, y, axes=("W1[0,0]", "W2[0,0]"))
    with pytest.raises(TypeError, match="expected a fitted MLPRegressor or MLPClassifier"):
        sl.weights(object(), X, y, axes=("W1[0,0]", "W2[0,0]"))
    slice_ = sl.weights(fit.model, X, y, axes=("W1[0,0]", "W2[0,0]"), resolution=5)
    with pytest.raises(ValueError, match="landscape of kind 'input_space'"):
        sl.input_attack(fit.model, X, y, slice_)
    with pytest.raises(ValueError, match="no figure 'nope'"):
        slice_.plot("nope")


def test_import_sklandscape_loads_nothing_heavy():
    code = ("import sys, sklandscape; heavy = [m for m in ('pandas', 'matplotlib', 'scipy', "
            "'sklearn', 'mlflow') if m in sys.modules]; assert not heavy, heavy; "
            "assert callable(sklandscape.weights) and 'pandas' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_renamed_function_names_its_new_name():
    with pytest.raises(AttributeError, match=r"sklandscape.input was renamed sklandscape.input_space"):
        sl.input  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        sl.nothing  # noqa: B018
