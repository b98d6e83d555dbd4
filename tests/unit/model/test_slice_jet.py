"""The slice jet (value, gradient and 2x2 Hessian over two weights by forward differentiation)
against independent references: the loss through sklearn's predict / predict_proba, finite
differences of it, and the full-network backprop and R-operator Hessian restricted to the
slice."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.neural_network import MLPClassifier

from conftest import fitted_mlp
from sklandscape.model.gradients import hessian_vector_product, loss_and_gradient
from sklandscape.model.network import Network
from sklandscape.model.slice_jet import WeightSlice

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
# Pairs of every structural kind, on a network with two hidden layers (sizes 4, 3):
PAIRS = [
    ("W1[0,1]", "W1[1,2]"),  # first layer, different units
    ("W1[0,1]", "W1[1,1]"),  # first layer, one unit
    ("W1[0,1]", "b1[1]"),  # a weight and its unit's intercept
    ("W1[1,0]", "W2[0,2]"),  # adjacent layers, the upper one reads the moved unit
    ("W1[1,3]", "W2[0,2]"),  # adjacent layers, it reads another unit
    ("b1[2]", "W3[1,0]"),  # first and output layer
    ("W2[2,1]", "W3[1,0]"),  # last hidden and output, through the moved unit
    ("W3[0,0]", "b3[0]"),  # both in the output layer
]


def _restricted(net, X, y, axes, u):
    """Backprop gradient and R-operator Hessian of all P weights, restricted to the slice."""
    index = [net.index(a) for a in axes]
    flat = np.repeat(net.flat[None, :], len(u), axis=0)
    flat[:, index] = u
    value, full = loss_and_gradient(net, flat, X, y)
    units = np.zeros((2, len(net.flat)))
    units[[0, 1], index] = 1.0
    products = hessian_vector_product(net, flat[:, None, :], X, y, units[None])
    return value, full[:, index], products[:, :, index]


def _points(net, axes, seed=0):
    centre = np.array([net.value(a) for a in axes])
    return centre + np.random.default_rng(seed).normal(0, 0.7, size=(7, 2))


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("axes", PAIRS)
def test_regressor_slice_equals_backprop_and_r_operator(activation, axes):
    model, X, y = fitted_mlp((4, 3), activation, n_features=2)
    net = Network.from_estimator(model)
    u = _points(net, axes)
    value, gradient, hessian = WeightSlice(net, X, y, axes).jet(u)
    ref_value, ref_gradient, ref_hessian = _restricted(net, X, y, axes, u)
    np.testing.assert_allclose(value, ref_value, rtol=1e-12)
    scale = np.abs(ref_gradient).max()
    np.testing.assert_allclose(gradient, ref_gradient, rtol=1e-10, atol=1e-12 * scale)
    np.testing.assert_allclose(hessian, ref_hessian, rtol=1e-9,
                               atol=1e-11 * np.abs(ref_hessian).max())
    # The value is the MSE of sklearn's own prediction with the two weights set.
    for point, got in zip(u[:2], value[:2]):
        model.coefs_, model.intercepts_ = net.with_values(dict(zip(axes, point))) \
            .to_estimator_arrays()
        assert got == pytest.approx(np.mean((model.predict(X) - y) ** 2), rel=1e-12)


@pytest.mark.parametrize("dataset", ["iris", "wine_binary"])
@pytest.mark.parametrize("axes", PAIRS)
def test_classifier_slice_equals_log_loss_and_finite_differences(dataset, axes):
    raw = load_iris() if dataset == "iris" else load_wine()
    X, y = raw.data[:, :4], raw.target
    if dataset == "wine_binary":
        y = (y == 1).astype(int)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier(hidden_layer_sizes=(4, 3), activation="tanh", max_iter=60,
                              random_state=0).fit(X, y)
    net = Network.from_estimator(model)
    index_y = np.searchsorted(model.classes_, y)
    u = _points(net, axes, seed=1)
    weight_slice = WeightSlice(net, X, index_y, axes)
    value, gradient, hessian = weight_slice.jet(u)
    ref_value, ref_gradient, ref_hessian = _restricted(net, X, index_y, axes, u)
    np.testing.assert_allclose(value, ref_value, rtol=1e-12)
    np.testing.assert_allclose(gradient, ref_gradient, rtol=1e-9,
                               atol=1e-12 * np.abs(ref_gradient).max())
    np.testing.assert_allclose(hessian, ref_hessian, rtol=1e-8,
                               atol=1e-11 * np.abs(ref_hessian).max())

    def sklearn_loss(point):
        model.coefs_, model.intercepts_ = net.with_values(dict(zip(axes, point))) \
            .to_estimator_arrays()
        return log_loss(y, model.predict_proba(X), labels=model.classes_)

    point, h = u[0], 1e-5
    assert value[0] == pytest.approx(sklearn_loss(point), rel=1e-10)
    fd = [(sklearn_loss(point + h * e) - sklearn_loss(point - h * e)) / (2 * h)
          for e in np.eye(2)]
    np.testing.assert_allclose(gradient[0], fd, rtol=1e-5, atol=1e-8)
    k = 1e-4
    fd_hessian = np.array([[(sklearn_loss(point + k * (ei + ej)) - sklearn_loss(point + k * (ei - ej))
                             - sklearn_loss(point - k * (ei - ej))
                             + sklearn_loss(point - k * (ei + ej))) / (4 * k * k)
                            for ej in np.eye(2)] for ei in np.eye(2)])
    np.testing.assert_allclose(hessian[0], fd_hessian, rtol=1e-4,
                               atol=1e-6 * max(1.0, np.abs(fd_hessian).max()))


@pytest.mark.parametrize("axes", [("W1[0,1]", "W2[1,0]"), ("W2[0,0]", "b2[0]")])
def test_sklearn_objective_adds_the_moving_weights_penalty(axes):
    model, X, y = fitted_mlp((3,), "tanh", n_features=2)
    net = Network.from_estimator(model).with_objective("sklearn", alpha=0.3)
    u = _points(net, axes, seed=2)
    value, gradient, hessian = WeightSlice(net, X, y, axes).jet(u)
    ref_value, ref_gradient, ref_hessian = _restricted(net, X, y, axes, u)
    np.testing.assert_allclose(value, ref_value, rtol=1e-12)
    np.testing.assert_allclose(gradient, ref_gradient, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(hessian, ref_hessian, rtol=1e-9, atol=1e-12)


def test_value_and_gradient_keep_the_points_shape_and_chunking_changes_nothing(monkeypatch):
    model, X, y = fitted_mlp((5, 4), "logistic", n_features=3)
    net = Network.from_estimator(model)
    weight_slice = WeightSlice(net, X, y, ("W1[2,4]", "W2[4,1]"))
    u = _points(net, weight_slice.axes).reshape(7, 1, 2)
    value, gradient = weight_slice.value_and_gradient(u)
    assert value.shape == (7, 1) and gradient.shape == (7, 1, 2)
    monkeypatch.setattr("sklandscape.model.slice_jet.WORK_PER_CHUNK", 1)  # one point per chunk
    again, hessian = weight_slice.jet(u)[0], weight_slice.hessian(u)
    np.testing.assert_array_equal(value, again)
    assert hessian.shape == (7, 1, 2, 2)
    with pytest.raises(ValueError, match="two different weights"):
        WeightSlice(net, X, y, ("W1[0,0]", "W1[0,0]"))
