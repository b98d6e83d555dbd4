"""Analytic derivatives against independent references: finite differences of the loss
computed through MLPRegressor.predict, scikit-learn's own backprop, and closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import fitted_mlp
from sklandscape.model.gradients import (
    hessian,
    hessian_vector_product,
    loss_and_gradient,
    output_input_gradient,
)
from sklandscape.model.network import Network

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
ARCHITECTURES = [((2,), 1), ((3, 2), 2), ((4, 3, 2), 2)]


def predict_mse(model, net, flat, X, y) -> float:
    """The reference loss: the flat vector put into the sklearn model, then predict."""
    model.coefs_, model.intercepts_ = Network(
        net.layer_sizes, net.activation, net.out_activation, flat).to_estimator_arrays()
    return float(np.mean((model.predict(X) - y) ** 2))


def central_gradient(f, flat, h=1e-6):
    return np.array([(f(flat + h * e) - f(flat - h * e)) / (2 * h) for e in np.eye(len(flat))])


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("hidden,n_features", ARCHITECTURES)
def test_gradient_matches_finite_differences_of_predict(activation, hidden, n_features):
    model, X, y = fitted_mlp(hidden, activation, n_features=n_features)
    net = Network.from_estimator(model)
    # Away from the fitted point, so the gradient is not ~0 and relative errors mean something.
    flat = net.flat + 0.2 * np.random.default_rng(3).standard_normal(net.flat.shape)
    loss, grad = loss_and_gradient(net, flat, X, y)
    assert loss == pytest.approx(predict_mse(model, net, flat, X, y), rel=1e-12)
    reference = central_gradient(lambda p: predict_mse(model, net, p, X, y), flat)
    np.testing.assert_allclose(grad, reference, rtol=1e-5, atol=1e-7 * np.abs(reference).max())


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradient_is_twice_sklearns_backprop(activation):
    """sklearn minimises half the MSE plus an L2 penalty: with alpha = 0, half of ours."""
    model, X, y = fitted_mlp((3, 2), activation, n_features=2)
    net = Network.from_estimator(model)
    model.alpha = 0.0  # fitted with sklearn's default 1e-4; the penalty is not part of the MSE
    n_layers = len(model.coefs_) + 1
    activations = [X] + [None] * (n_layers - 1)
    deltas = [None] * (n_layers - 1)
    coef_grads = [np.empty_like(c) for c in model.coefs_]
    intercept_grads = [np.empty_like(b) for b in model.intercepts_]
    sk_loss, coef_grads, intercept_grads = model._backprop(
        X, y[:, None], None, activations, deltas, coef_grads, intercept_grads)
    sk_flat = np.concatenate([part for c, b in zip(coef_grads, intercept_grads)
                              for part in (c.ravel(), b.ravel())])
    loss, grad = loss_and_gradient(net, net.flat, X, y)
    assert loss == pytest.approx(2 * sk_loss, rel=1e-12)
    np.testing.assert_allclose(grad, 2 * sk_flat, rtol=1e-10, atol=1e-14)


def test_batched_gradient_equals_one_vector_at_a_time():
    model, X, y = fitted_mlp((3, 2), "tanh", n_features=2)
    net = Network.from_estimator(model)
    batch = net.flat + 0.3 * np.random.default_rng(0).standard_normal((4, 3, len(net.flat)))
    loss, grad = loss_and_gradient(net, batch, X, y)
    assert loss.shape == (4, 3) and grad.shape == (4, 3, len(net.flat))
    for index in np.ndindex(4, 3):
        one_loss, one_grad = loss_and_gradient(net, batch[index], X, y)
        assert loss[index] == pytest.approx(one_loss, rel=1e-13)
        np.testing.assert_allclose(grad[index], one_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh"])
@pytest.mark.parametrize("hidden,n_features", ARCHITECTURES)
def test_hessian_matches_second_differences_of_predict(activation, hidden, n_features):
    model, X, y = fitted_mlp(hidden, activation, n_features=n_features, n=40)
    net = Network.from_estimator(model)
    H = hessian(net, X, y)
    h, size = 1e-4, len(net.flat)
    f = lambda p: predict_mse(model, net, p, X, y)  # noqa: E731
    rng = np.random.default_rng(1)
    for i, j in rng.integers(0, size, size=(8, 2)):
        ei, ej = np.eye(size)[i] * h, np.eye(size)[j] * h
        second = (f(net.flat + ei + ej) - f(net.flat + ei - ej) - f(net.flat - ei + ej)
                  + f(net.flat - ei - ej)) / (4 * h * h)
        assert H[i, j] == pytest.approx(second, rel=1e-4, abs=1e-6 * np.abs(H).max())


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_hessian_matches_differences_of_the_gradient(activation):
    """Column j of H is the derivative of the analytic gradient along e_j (relu: off kinks)."""
    model, X, y = fitted_mlp((4, 3), activation, n_features=2)
    net = Network.from_estimator(model)
    H = hessian(net, X, y)
    h = 1e-6
    columns = np.array([(loss_and_gradient(net, net.flat + h * e, X, y)[1]
                         - loss_and_gradient(net, net.flat - h * e, X, y)[1]) / (2 * h)
                        for e in np.eye(len(net.flat))])
    np.testing.assert_allclose(H, columns.T, rtol=1e-5, atol=1e-6 * np.abs(H).max())
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-12 * np.abs(H).max())


def test_hessian_vector_product_is_linear_and_batched():
    model, X, y = fitted_mlp((3, 2), "tanh", n_features=2)
    net = Network.from_estimator(model)
    rng = np.random.default_rng(2)
    v = rng.standard_normal((5, len(net.flat)))
    H = hessian(net, X, y, max_directions=4)  # several chunks of columns
    products = hessian_vector_product(net, net.flat, X, y, v)
    np.testing.assert_allclose(products, v @ H.T, rtol=1e-10, atol=1e-12 * np.abs(H).max())


def test_linear_model_hessian_is_the_closed_form():
    """No hidden layer, identity output: MSE is quadratic with Hessian (2/n) [X 1]^T [X 1]."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((30, 3))
    y = rng.standard_normal(30)
    net = Network((3, 1), "identity", "identity", rng.standard_normal(4))
    design = np.hstack([X, np.ones((30, 1))])
    expected = 2.0 / 30 * design.T @ design
    np.testing.assert_allclose(hessian(net, X, y), expected, rtol=1e-12, atol=1e-14)
    # ...and the gradient is (2/n) A^T (A theta - y), exact everywhere.
    _, grad = loss_and_gradient(net, net.flat, X, y)
    np.testing.assert_allclose(grad, 2.0 / 30 * design.T @ (design @ net.flat - y), rtol=1e-12)


def test_hessian_at_zero_residual_is_gauss_newton():
    """Where the fit is perfect the second-order term vanishes: H = (2/n) J^T J, with J the
    Jacobian of the predictions (here by finite differences of MLPRegressor.predict)."""
    model, X, _ = fitted_mlp((3,), "tanh", n_features=2, n=25)
    net = Network.from_estimator(model)
    y = model.predict(X)  # targets equal to the predictions: zero residual
    h = 1e-6
    jacobian = []
    for e in np.eye(len(net.flat)):
        model.coefs_, model.intercepts_ = net.with_values(
            dict(zip(net.names, net.flat + h * e))).to_estimator_arrays()
        plus = model.predict(X)
        model.coefs_, model.intercepts_ = net.with_values(
            dict(zip(net.names, net.flat - h * e))).to_estimator_arrays()
        jacobian.append((plus - model.predict(X)) / (2 * h))
    J = np.array(jacobian).T
    np.testing.assert_allclose(hessian(net, X, y), 2.0 / len(X) * J.T @ J, rtol=1e-6,
                               atol=1e-8)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_input_gradient_matches_finite_differences_of_predict(activation):
    model, X, _ = fitted_mlp((4, 3), activation, n_features=2)
    net = Network.from_estimator(model)
    prediction, grad = output_input_gradient(net, X)
    np.testing.assert_allclose(prediction, model.predict(X), rtol=1e-12, atol=1e-12)
    h = 1e-6
    reference = np.stack([(model.predict(X + h * e) - model.predict(X - h * e)) / (2 * h)
                          for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(grad, reference, rtol=1e-5, atol=1e-8)


def test_input_gradient_needs_a_single_output():
    net = Network((2, 3, 2), "tanh", "identity", np.zeros(17))
    with pytest.raises(ValueError, match="single-output"):
        output_input_gradient(net, np.zeros((4, 2)))
