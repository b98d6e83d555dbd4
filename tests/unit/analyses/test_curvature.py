"""Curvature: the full Hessian's verdict, the slice's 2x2 Hessian, maps and the slice minimum,
against finite differences of MLPRegressor.predict, closed forms and brute-force counts."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import fd_hessian, fitted_mlp
from sklandscape.analyses.curvature import (
    PlaneLoss,
    convex_fraction,
    convexity_ratio,
    curvature_map,
    eigenvalue_tolerance,
    flat_fraction,
    hessian_report,
    plateau_fraction,
    slice_minimum,
    symmetric_2x2_eigenvalues,
)
from sklandscape.engine.landscape import weights_grid, weights_slice
from sklandscape.model.network import Network

AXES = ("W1[0,0]", "W2[0,0]")


def predict_mse(model, net, flat, X, y) -> float:
    model.coefs_, model.intercepts_ = Network(
        net.layer_sizes, net.activation, net.out_activation, flat).to_estimator_arrays()
    return float(np.mean((model.predict(X) - y) ** 2))


@pytest.fixture
def n1():
    model, X, y = fitted_mlp((2,), "tanh", n_features=1, n=60, max_iter=400)
    return model, Network.from_estimator(model), X, y


def linear_problem(seed=0, n=40):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    y = X @ np.array([1.5, -0.5]) + 0.3 + 0.1 * rng.standard_normal(n)
    net = Network((2, 1), "identity", "identity", rng.standard_normal(3))
    return net, X, y


def test_eigenvalues_match_a_finite_difference_hessian_of_predict(n1):
    model, net, X, y = n1
    report = hessian_report(net, X, y)
    reference = fd_hessian(lambda p: predict_mse(model, net, p, X, y), net.flat)
    expected = np.linalg.eigvalsh((reference + reference.T) / 2)
    np.testing.assert_allclose(report.eigenvalues, expected, rtol=1e-3,
                               atol=1e-5 * np.abs(expected).max())
    # eigenvectors: H v = lambda v for each column
    for value, vector in zip(report.eigenvalues, report.eigenvectors.T):
        np.testing.assert_allclose(report.matrix @ vector, value * vector,
                                   atol=1e-10 * abs(report.eigenvalues[-1]))
    assert report.symmetry_error <= 1e-12 * abs(report.eigenvalues[-1])


def test_linear_least_squares_is_strictly_convex_with_known_newton_step():
    net, X, y = linear_problem()
    report = hessian_report(net, X, y)
    design = np.hstack([X, np.ones((len(X), 1))])
    np.testing.assert_allclose(report.eigenvalues,
                               np.linalg.eigvalsh(2 / len(X) * design.T @ design), rtol=1e-12)
    assert report.is_strictly_convex
    # The quadratic model is exact: H^-1 g points at the least-squares solution.
    solution = np.linalg.lstsq(design, y, rcond=None)[0]
    assert report.newton_step_norm == pytest.approx(np.linalg.norm(net.flat - solution), rel=1e-9)
    assert report.condition_number == pytest.approx(
        report.eigenvalues[-1] / report.eigenvalues[0], rel=1e-12)


def test_one_data_point_has_exactly_flat_directions(n1):
    """On one point x, moving W1[0,j] by t and b1[j] by -t x leaves every prediction
    unchanged: the Hessian maps that direction to 0, so the loss is not strictly convex."""
    _, net, X, y = n1
    x = float(X[7, 0])
    report = hessian_report(net, X[[7]], y[[7]])
    for j in range(2):
        direction = np.zeros(len(net.flat))
        direction[net.index(f"W1[0,{j}]")], direction[net.index(f"b1[{j}]")] = 1.0, -x
        assert np.linalg.norm(report.matrix @ direction) <= 1e-12 * abs(report.eigenvalues[-1])
    assert not report.is_strictly_convex
    assert np.sum(np.abs(report.eigenvalues) <= report.tolerance) >= 2
    assert report.newton_step_norm == np.inf


def test_tolerance_is_numerical_unless_given():
    values = np.array([-2.0, 1e-3, 4.0])
    assert eigenvalue_tolerance(values) == pytest.approx(4.0 * 3 * np.finfo(float).eps)
    assert eigenvalue_tolerance(values, rtol=1e-2) == pytest.approx(0.04)
    net, X, y = linear_problem()
    strict = hessian_report(net, X, y)
    lenient = hessian_report(net, X, y, rtol=0.99)  # nothing is that close to the largest
    assert strict.is_strictly_convex and not lenient.is_strictly_convex


def test_plane_loss_equals_the_landscape_engine_and_predict(n1):
    model, net, X, y = n1
    plane = PlaneLoss.over_weights(net, X, y, AXES)
    grid = weights_grid(net, AXES, span=1.0, resolution=7)
    points = grid.points()
    loss, _ = plane.value_and_gradient(points)
    np.testing.assert_allclose(loss.reshape(grid.shape), weights_slice(net, X, y, grid),
                               rtol=1e-12)
    flat = net.with_values(dict(zip(AXES, points[10]))).flat
    assert loss[10] == pytest.approx(predict_mse(model, net, flat, X, y), rel=1e-12)


def test_plane_gradient_and_hessian_match_finite_differences(n1):
    model, net, X, y = n1
    plane = PlaneLoss.over_weights(net, X, y, AXES)
    u = np.array([net.value(AXES[0]) + 0.4, net.value(AXES[1]) - 0.7])
    def f(v):
        return predict_mse(model, net, net.with_values(dict(zip(AXES, v))).flat, X, y)

    _, grad = plane.value_and_gradient(u)
    h = 1e-6
    fd = np.array([(f(u + h * e) - f(u - h * e)) / (2 * h) for e in np.eye(2)])
    np.testing.assert_allclose(grad, fd, rtol=1e-6)
    np.testing.assert_allclose(plane.hessian(u), fd_hessian(f, u), rtol=1e-4,
                               atol=1e-6 * np.abs(plane.hessian(u)).max())


def test_plane_hessian_is_the_full_hessians_submatrix(n1):
    _, net, X, y = n1
    plane = PlaneLoss.over_weights(net, X, y, ("b1[1]", "W1[0,0]"))
    full = hessian_report(net, X, y).matrix
    i, j = net.index("b1[1]"), net.index("W1[0,0]")
    u = np.array([net.value("b1[1]"), net.value("W1[0,0]")])
    np.testing.assert_allclose(plane.hessian(u), full[np.ix_([i, j], [i, j])], rtol=1e-12,
                               atol=1e-14)
    # batched points give the same as one at a time
    many = u + np.random.default_rng(0).standard_normal((3, 4, 2))
    batched = plane.hessian(many)
    assert batched.shape == (3, 4, 2, 2)
    np.testing.assert_allclose(batched[2, 1], plane.hessian(many[2, 1]), rtol=1e-13)


def test_closed_form_2x2_eigenvalues_match_numpy():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((200, 2, 2)) * 10 ** rng.uniform(-6, 3, (200, 1, 1))
    h = (a + np.swapaxes(a, -1, -2)) / 2
    low, high = symmetric_2x2_eigenvalues(h)
    expected = np.linalg.eigvalsh(h)
    scale = np.abs(expected).max(axis=1)
    np.testing.assert_allclose(low, expected[:, 0], rtol=0, atol=1e-12 * scale.max())
    assert np.all(np.abs(low - expected[:, 0]) <= 1e-12 * scale)
    assert np.all(np.abs(high - expected[:, 1]) <= 1e-12 * scale)


def test_convexity_ratio_cases():
    low = np.array([1.0, -1.0, -4.0, 0.0, 2.0])
    high = np.array([4.0, 4.0, -2.0, 0.0, 2.0])
    ratio = convexity_ratio(low, high)
    np.testing.assert_allclose(ratio[[0, 1, 2, 4]], [0.25, -0.25, -2.0, 1.0])
    assert np.isnan(ratio[3])


def test_fractions_are_brute_force_counts():
    rng = np.random.default_rng(6)
    values = rng.uniform(-1, 1, 500)
    values[::50] = np.nan
    finite = values[np.isfinite(values)]
    assert plateau_fraction(np.abs(values), 0.3) == sum(abs(v) < 0.3 for v in finite) / len(finite)
    assert flat_fraction(values, 0.3) == plateau_fraction(np.abs(values), 0.3)
    assert convex_fraction(values) == sum(v > 0 for v in finite) / len(finite)
    assert np.isnan(plateau_fraction(np.full(3, np.nan), 1.0))


def test_curvature_map_columns_agree_with_the_plane(n1):
    _, net, X, y = n1
    plane = PlaneLoss.over_weights(net, X, y, AXES)
    points = weights_grid(net, AXES, span=1.0, resolution=5).points()
    table = curvature_map(plane, points, AXES)
    loss, grad = plane.value_and_gradient(points)
    h = plane.hessian(points)
    np.testing.assert_array_equal(table[list(AXES)].to_numpy(), points)
    np.testing.assert_allclose(table["grad_norm"], np.linalg.norm(grad, axis=1), rtol=1e-14)
    np.testing.assert_allclose(table["eig_min"], np.linalg.eigvalsh(h)[:, 0], rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(table["loss"], loss)


def test_slice_minimum_of_a_linear_model_is_the_least_squares_solution():
    """Over two of a linear model's weights the loss is a 2-D quadratic: the minimiser solves
    the 2x2 normal equations."""
    net, X, y = linear_problem(seed=1)
    axes = ("W1[0,0]", "b1[0]")
    plane = PlaneLoss.over_weights(net, X, y, axes)
    fixed = net.value("W1[1,0]") * X[:, 1]
    design = np.stack([X[:, 0], np.ones(len(X))], axis=1)
    expected = np.linalg.solve(design.T @ design, design.T @ (y - fixed))
    grid = weights_grid(net, axes, span=4.0, resolution=9)
    points = grid.points()
    loss, _ = plane.value_and_gradient(points)
    found = slice_minimum(plane, points, loss)
    assert all(lo <= e <= hi for e, (lo, hi) in zip(expected, zip(points.min(0), points.max(0))))
    np.testing.assert_allclose(found.point, expected, rtol=1e-9)
    assert found.loss <= found.grid_loss
    assert found.gradient_norm < 1e-10


def test_slice_minimum_stays_in_bounds_and_beats_the_grid(n1):
    _, net, X, y = n1
    plane = PlaneLoss.over_weights(net, X, y, AXES)
    points = weights_grid(net, AXES, span=2.0, resolution=11).points()
    loss, _ = plane.value_and_gradient(points)
    bounds = [(points[:, 0].min(), net.value(AXES[0]) - 1.0), (points[:, 1].min(),
                                                               points[:, 1].max())]
    inside = (points[:, 0] <= bounds[0][1])
    found = slice_minimum(plane, points[inside], loss[inside], bounds)
    assert bounds[0][0] <= found.point[0] <= bounds[0][1]
    assert found.loss <= loss[inside].min()


def test_one_data_point_slice_reaches_zero_loss(n1):
    """On one point the slice's minimum is 0 (a curve of exact fits): the refinement finds it."""
    _, net, X, y = n1
    plane = PlaneLoss.over_weights(net, X[[20]], y[[20]], AXES)
    points = weights_grid(net, AXES, span=3.0, resolution=41).points()
    loss, _ = plane.value_and_gradient(points)
    found = slice_minimum(plane, points, loss)
    assert found.loss < 1e-20
    low, _ = symmetric_2x2_eigenvalues(plane.hessian(found.point))
    # a curve of minima: zero curvature along it (up to rounding)
    assert abs(low) < 1e-9 * np.abs(plane.hessian(found.point)).max()
