"""Optimizers on known functions: closed-form iterates on quadratics (GD, heavy ball, Nesterov
as linear recursions), Adam on a linear function, the steps-to-epsilon count, projection."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sklandscape.analyses.optimizers import (
    best_rate,
    momentum_verdict,
    run,
    steps_to_epsilon,
    worst_case,
)

A = np.array([[3.0, 0.5], [0.5, 0.2]])  # f(u) = 1/2 u^T A u, condition ~ 17
STARTS = np.array([[1.0, -2.0], [-0.5, 0.7]])


def quadratic(u):
    return 0.5 * np.einsum("...i,ij,...j->...", u, A, u), u @ A.T


def test_gradient_descent_iterates_are_the_matrix_power():
    rates = [0.05, 0.3]
    paths = run("gd", quadratic, STARTS, rates, steps=25)
    for k, lr in enumerate(rates):
        step = np.eye(2) - lr * A
        for t in (1, 7, 25):
            expected = STARTS @ np.linalg.matrix_power(step, t).T
            np.testing.assert_allclose(paths.points[k, :, t], expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(paths.loss, quadratic(paths.points)[0], rtol=1e-14)


def test_heavy_ball_and_nesterov_follow_their_linear_recursions():
    """Both are u_(t+1) = M1 u_t + M0 u_(t-1) on a quadratic, with u_(-1) = u_0."""
    lr, beta, identity = 0.1, 0.8, np.eye(2)
    recursions = {
        "momentum": ((1 + beta) * identity - lr * A, -beta * identity),
        "nesterov": ((1 + beta) * (identity - lr * A), -beta * (identity - lr * A)),
    }
    for method, (m1, m0) in recursions.items():
        paths = run(method, quadratic, STARTS, [lr], steps=30, beta=beta)
        previous, current = STARTS.copy(), STARTS.copy()
        for t in range(1, 31):
            previous, current = current, current @ m1.T + previous @ m0.T
            np.testing.assert_allclose(paths.points[0, :, t], current, rtol=1e-10, atol=1e-13)


def test_adam_on_a_linear_function_moves_lr_per_step():
    """Constant gradient g: bias-corrected moments are g and g^2, so each step is lr g/(|g|+eps)."""
    g = np.array([2.0, -0.5])
    linear = lambda u: (u @ g, np.broadcast_to(g, u.shape).copy())  # noqa: E731
    paths = run("adam", linear, STARTS, [0.01, 0.1], steps=12)
    for k, lr in enumerate([0.01, 0.1]):
        for t in (1, 5, 12):
            expected = STARTS - t * lr * g / (np.abs(g) + 1e-8)
            np.testing.assert_allclose(paths.points[k, :, t], expected, rtol=1e-12)


def test_steps_to_epsilon_is_the_closed_form_count_for_gradient_descent():
    """f = lam/2 u^2, GD: gap_t = lam/2 (1 - lr lam)^(2t) u0^2 <= eps from t* on."""
    lam, lr, u0, eps = 4.0, 0.05, 3.0, 1e-6
    one_d = lambda u: (0.5 * lam * (u**2).sum(-1), lam * u * np.array([1.0, 0.0]))  # noqa: E731
    paths = run("gd", one_d, np.array([[u0, 0.0]]), [lr], steps=200)
    expected = math.ceil(math.log(2 * eps / (lam * u0**2)) / (2 * math.log(1 - lr * lam)))
    assert steps_to_epsilon(paths.loss, 0.0, eps)[0, 0] == expected


def test_steps_to_epsilon_needs_the_loss_to_stay_within():
    loss = np.array([[5.0, 0.5, 0.05, 2.0, 0.01, 0.001, 0.0],
                     [5.0, 0.05, 0.04, 0.03, 0.02, 0.2, 0.3]])
    steps = steps_to_epsilon(loss, 0.0, 0.1)
    assert steps[0] == 4 and np.isnan(steps[1])


def test_a_learning_rate_too_large_diverges_and_is_frozen():
    paths = run("gd", quadratic, STARTS, [0.001, 10.0], steps=400)
    assert not paths.diverged[0].any() and paths.diverged[1].all()
    assert np.isfinite(paths.loss[1]).all()  # frozen at the last finite iterate
    np.testing.assert_array_equal(paths.points[1, :, -1], paths.points[1, :, -2])


def test_projection_keeps_every_iterate_in_the_box_and_finds_the_constrained_minimum():
    """A separable quadratic with its minimum outside the box: the constrained minimum is the
    clipped one, and projected GD reaches it."""
    centre = np.array([2.0, -3.0])
    shifted = lambda u: (((u - centre) ** 2).sum(-1), 2 * (u - centre))  # noqa: E731
    bounds = [(-1.0, 1.0), (-1.0, 1.0)]
    for method in ("gd", "momentum", "nesterov", "adam"):
        paths = run(method, shifted, np.array([[0.0, 0.0], [-0.9, 0.9]]), [0.05], steps=400,
                    bounds=bounds)
        assert (paths.points >= -1.0).all() and (paths.points <= 1.0).all()
        np.testing.assert_allclose(paths.points[0, :, -1], [[1.0, -1.0], [1.0, -1.0]], atol=1e-6)


def test_unknown_method_or_setting_is_an_error():
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'"):
        run("sgd", quadratic, STARTS, [0.1], steps=2)
    with pytest.raises(ValueError, match="has no setting"):
        run("gd", quadratic, STARTS, [0.1], steps=2, beta=0.9)


def test_best_rate_prefers_reaching_from_every_start_then_fewest_steps():
    steps = np.array([[10.0, np.nan, 5.0],   # fast but misses a start
                      [40.0, 30.0, 35.0],    # reaches all, worst 40
                      [20.0, 38.0, 39.0],    # reaches all, worst 39 <- best
                      [np.nan, np.nan, np.nan]])
    assert best_rate(steps) == 2
    assert worst_case(steps[2]) == 39.0 and math.isnan(worst_case(steps[0]))


def test_momentum_verdict_says_which_way_it_falls():
    far = {"gd": 1.0, "nesterov": 0.1}
    assert momentum_verdict({"gd": 300.0, "nesterov": 100.0}, far, 500).startswith(
        "momentum helps: Nesterov momentum needs 3.0x fewer steps")
    assert momentum_verdict({"gd": 100.0, "nesterov": 300.0}, far, 500).startswith(
        "momentum does not help")
    assert momentum_verdict({"gd": 100.0, "nesterov": 95.0}, far, 500).startswith(
        "no clear difference")
    assert momentum_verdict({"gd": math.nan, "nesterov": 95.0}, far, 500).startswith(
        "momentum needed")
    assert momentum_verdict({"gd": 10.0, "adam": 5.0}, far, 500).startswith("not compared")
    assert "Distance from the minimum after 500 steps (farthest start): GD 1, Nesterov 0.1" in (
        momentum_verdict({"gd": 300.0, "nesterov": 100.0}, far, 500))
    assert "not isolated" in momentum_verdict({"gd": 300.0, "nesterov": 100.0},
                                              {"gd": math.nan, "nesterov": math.nan}, 500)
