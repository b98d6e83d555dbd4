"""Input space: the error's input gradient against finite differences of predict and of the
generating functions, the worst inputs against a brute-force sort, the ascent's guarantees."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import fitted_mlp
from sklandscape.analyses.adversary import InputLoss, gradient_ascent, gradient_field, worst_inputs
from sklandscape.data.datasets import GENERATORS, generating_function, generating_gradient
from sklandscape.model.network import Network


@pytest.fixture(scope="module")
def attack():
    model, X, _ = fitted_mlp((6, 4), "tanh", n_features=2, n=150, max_iter=200)
    net = Network.from_estimator(model)
    loss = InputLoss(net, generating_function("waves_with_spike"),
                     generating_gradient("waves_with_spike"))
    return model, loss, X


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generating_gradients_match_finite_differences(name):
    X = np.random.default_rng(0).uniform(-3, 3, (50, 2))
    X[:5] = [[-2.0, 0.0], [-2.1, 0.2], [-1.9, -0.3], [0.0, 0.0], [1.0, 1.0]]  # on the spike
    f, grad = generating_function(name), generating_gradient(name)
    h = 1e-6
    reference = np.stack([(f(X + h * e) - f(X - h * e)) / (2 * h) for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(grad(X), reference, rtol=1e-6, atol=1e-8)


def test_input_error_and_gradient_match_predict(attack):
    model, loss, X = attack
    target = generating_function("waves_with_spike")
    error = lambda P: (model.predict(P) - target(P)) ** 2  # noqa: E731
    value, grad = loss.value_and_gradient(X)
    np.testing.assert_allclose(value, error(X), rtol=1e-12, atol=1e-15)
    h = 1e-6
    reference = np.stack([(error(X + h * e) - error(X - h * e)) / (2 * h) for e in np.eye(2)],
                         axis=1)
    np.testing.assert_allclose(grad, reference, rtol=1e-5, atol=1e-8)


def test_worst_inputs_match_a_brute_force_sort():
    rng = np.random.default_rng(1)
    loss = rng.integers(0, 20, 300).astype(float)  # many ties
    loss[[3, 77]] = np.nan
    brute = sorted((i for i in range(300) if np.isfinite(loss[i])), key=lambda i: (-loss[i], i))
    for k in (1, 10, 50, 298, 500):
        np.testing.assert_array_equal(worst_inputs(loss, k), brute[:k])
    assert worst_inputs(loss, 0).size == 0


def test_small_ascent_steps_raise_the_error_monotonically(attack):
    _, loss, X = attack
    start, _ = loss.value_and_gradient(X)
    ascent = gradient_ascent(loss, X, step_size=1e-4, steps=10, radius=10.0)
    increments = np.diff(ascent.loss, axis=0)
    moving = start > 1e-12  # at an exact fit the gradient is 0 and nothing moves
    assert (increments[:, moving] >= -1e-15).all()
    assert (ascent.loss[-1, moving] > ascent.loss[0, moving]).mean() > 0.95


def test_ascent_respects_its_radius_and_bounds_and_never_loses(attack):
    _, loss, X = attack
    bounds = [(-3.0, 3.0), (-3.0, 3.0)]
    ascent = gradient_ascent(loss, X, step_size=0.1, steps=15, radius=0.25, bounds=bounds)
    distance = np.linalg.norm(ascent.path - X[None], axis=-1)
    assert distance.max() <= 0.25 + 1e-12
    assert (ascent.path >= -3.0).all() and (ascent.path <= 3.0).all()
    assert (ascent.gain >= 0).all()
    # the best point is one of the path's iterates, with the error recomputed there
    np.testing.assert_allclose(loss.value(ascent.best), ascent.best_loss, rtol=1e-12)
    np.testing.assert_array_equal(ascent.best_loss, ascent.loss.max(axis=0))


def test_gradient_field_is_the_loss_on_a_grid(attack):
    _, loss, _ = attack
    field = gradient_field(loss, np.linspace(-1, 1, 3), np.linspace(0, 2, 4))
    assert len(field) == 12 and field["x0"].iloc[0] == -1 and field["x1"].iloc[3] == 2
    value, grad = loss.value_and_gradient(field[["x0", "x1"]].to_numpy())
    np.testing.assert_allclose(field[["grad_x0", "grad_x1"]].to_numpy(), grad)
    np.testing.assert_allclose(field["loss"], value)
