"""Matrix-free curvature against the exact full Hessian (itself checked against finite
differences in test_gradients): Lanczos eigenpairs, Hutchinson's trace with its standard
error, and stochastic Lanczos quadrature's moments, on a regressor and a classifier."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from conftest import fitted_mlp
from sklandscape.analyses.spectrum import (
    HessianOperator,
    Subspace,
    bottom_eigenpairs,
    exact_quadrature,
    extreme_eigenpairs,
    hutchinson_trace,
    stochastic_lanczos_quadrature,
)
from sklandscape.model.gradients import hessian
from sklandscape.model.network import Network


def _regressor():
    model, X, y = fitted_mlp((6, 4), "tanh", n_features=3, n=80, max_iter=200)
    return Network.from_estimator(model), X, y


def _classifier():
    raw = load_wine()
    X = (raw.data - raw.data.mean(axis=0)) / raw.data.std(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier(hidden_layer_sizes=(5,), activation="tanh", max_iter=100,
                              random_state=0).fit(X, raw.target)
    return Network.from_estimator(model), X, raw.target


CASES = {"regressor": _regressor, "classifier": _classifier}


@pytest.fixture(params=list(CASES))
def case(request):
    net, X, y = CASES[request.param]()
    full = hessian(net, X, y)
    return net, X, y, (full + full.T) / 2


def test_operator_is_the_full_hessian(case):
    net, X, y, H = case
    op = HessianOperator(net, X, y)
    op.block = 7  # several batches
    V = np.random.default_rng(0).standard_normal((len(net.flat), 20))
    np.testing.assert_allclose(op.matmat(V), H @ V, rtol=1e-10, atol=1e-12 * np.abs(H).max())
    assert op.products == 20


@pytest.mark.parametrize("which", ["LA", "SA"])
def test_lanczos_extreme_eigenpairs_equal_the_full_hessians(case, which):
    net, X, y, H = case
    exact_values, exact_vectors = np.linalg.eigh(H)
    # A trained network's smallest eigenvalues crowd around zero, where Lanczos is slow: a
    # large budget here (P is small), the default one in the pipeline.
    found = extreme_eigenpairs(HessianOperator(net, X, y), 5, which, seed=3, max_products=20000)
    assert found.converged
    reference = exact_values[-5:] if which == "LA" else exact_values[:5]
    vectors = exact_vectors[:, -5:] if which == "LA" else exact_vectors[:, :5]
    scale = np.abs(exact_values).max()
    np.testing.assert_allclose(found.values, reference, rtol=1e-8, atol=1e-10 * scale)
    if which == "LA":  # the top ones are well separated here; so are their eigenvectors
        overlap = np.abs(np.sum(found.vectors * vectors, axis=0))
        np.testing.assert_allclose(overlap, 1.0, atol=1e-6)


def test_an_unconverged_bottom_returns_what_converged_and_says_so():
    model, X, y = fitted_mlp((30, 20), "tanh", n_features=3, n=80, max_iter=300)
    net = Network.from_estimator(model)
    H = hessian(net, X, y)
    exact = np.linalg.eigvalsh((H + H.T) / 2)
    found = extreme_eigenpairs(HessianOperator(net, X, y), 5, "SA", max_products=40)
    assert not found.converged and len(found.values) < 5
    for value in found.values:  # whatever it returns is an eigenvalue
        assert np.min(np.abs(exact - value)) <= 1e-8 * np.abs(exact).max()


def test_the_bottom_to_a_resolution_is_the_full_hessians():
    """The bottom as the top of lambda_max·I - H: every value within resolution·lambda_max of
    the exact one, on a network whose bottom is a crowd around zero."""
    model, X, y = fitted_mlp((30, 20), "tanh", n_features=3, n=80, max_iter=300)
    net = Network.from_estimator(model)
    H = hessian(net, X, y)
    exact = np.linalg.eigvalsh((H + H.T) / 2)
    lambda_max, resolution = exact[-1], 1e-4
    assert np.sum(np.abs(exact) < resolution * lambda_max) > 20  # a crowd around zero
    op = HessianOperator(net, X, y)
    found = bottom_eigenpairs(op, 5, resolution * lambda_max, seed=1, max_products=2000)
    assert found.converged
    np.testing.assert_allclose(found.values, exact[:5], rtol=0, atol=resolution * lambda_max)
    # each returned pair is an eigenpair to that resolution: H v = lambda v + r, |r| small
    residuals = H @ found.vectors - found.vectors * found.values
    assert np.linalg.norm(residuals, axis=0).max() <= resolution * lambda_max
    # out of products: what it returns is the converged bottom, and it says it is not all
    few = bottom_eigenpairs(HessianOperator(net, X, y), 5, resolution * lambda_max, seed=1,
                            max_products=40)
    assert not few.converged and len(few.values) < 5
    np.testing.assert_allclose(few.values, exact[: len(few.values)], rtol=0,
                               atol=resolution * lambda_max)


def test_the_bottom_goes_on_from_the_quadratures_lanczos_runs():
    """From the density's Krylov spaces, the bottom is the full Hessian's, each pair to the
    resolution, for fewer new products than from a random block; a start that spans nothing
    new (repeated rows, a zero row) changes nothing."""
    model, X, y = fitted_mlp((30, 20), "tanh", n_features=3, n=80, max_iter=300)
    net = Network.from_estimator(model)
    H = hessian(net, X, y)
    exact = np.linalg.eigvalsh((H + H.T) / 2)
    resolution = 1e-4 * exact[-1]
    fresh = HessianOperator(net, X, y)
    alone = bottom_eigenpairs(fresh, 5, resolution, seed=1, max_products=2000)
    op = HessianOperator(net, X, y)
    _, krylov = stochastic_lanczos_quadrature(op, 4, 20, seed=3, subspace=True)
    assert krylov.vectors.shape == krylov.images.shape == (80, len(net.flat))
    np.testing.assert_allclose(krylov.images, krylov.vectors @ H, atol=1e-12)  # H symmetric
    spent = op.products
    found = bottom_eigenpairs(op, 5, resolution, seed=1, max_products=2000, start=krylov)
    assert found.converged and alone.converged
    assert op.products - spent < fresh.products
    np.testing.assert_allclose(found.values, exact[:5], rtol=0, atol=resolution)
    residuals = H @ found.vectors - found.vectors * found.values
    assert np.linalg.norm(residuals, axis=0).max() <= resolution
    np.testing.assert_allclose(np.linalg.norm(found.vectors, axis=0), 1.0, atol=1e-10)
    repeated = Subspace(np.vstack([krylov.vectors, krylov.vectors[:3], np.zeros((1, H.shape[0]))]),
                        np.vstack([krylov.images, krylov.images[:3], np.zeros((1, H.shape[0]))]))
    again = bottom_eigenpairs(HessianOperator(net, X, y), 5, resolution, seed=1,
                              max_products=2000, start=repeated)
    np.testing.assert_allclose(again.values, found.values, rtol=0, atol=resolution / 10)


def test_hutchinson_trace_is_within_its_standard_error_and_converges(case):
    net, X, y, H = case
    exact = float(np.trace(H))
    off_diagonal = float(np.sum(H * H) - np.sum(np.diag(H) ** 2))
    errors = []
    for probes in (50, 500, 5000):
        estimate = hutchinson_trace(HessianOperator(net, X, y), probes, seed=probes)
        assert abs(estimate.value - exact) <= 4 * estimate.standard_error
        # Rademacher probes: the variance of z^T H z is 2 x the off-diagonal sum of squares.
        assert estimate.standard_error == pytest.approx(np.sqrt(2 * off_diagonal / probes),
                                                        rel=0.35 if probes == 50 else 0.12)
        errors.append(estimate.standard_error)
    assert errors[2] < errors[1] < errors[0]


def test_quadrature_moments_are_each_probes_exact_moments(case):
    net, X, y, H = case
    steps = 8  # Gauss quadrature with 8 nodes is exact for polynomials up to degree 15
    quadrature = stochastic_lanczos_quadrature(HessianOperator(net, X, y), 4, steps, seed=1)
    starts = np.random.default_rng(1).integers(0, 2, size=(len(net.flat), 4)) * 2.0 - 1.0
    for k in range(4):
        v = starts[:, k] / np.linalg.norm(starts[:, k])
        mine = quadrature.probe == k
        np.testing.assert_allclose(np.sum(quadrature.weights[mine]), 1.0, rtol=1e-12)
        for power in range(1, 8):
            exact = v @ np.linalg.matrix_power(H, power) @ v
            got = np.sum(quadrature.weights[mine] * quadrature.nodes[mine] ** power)
            assert got == pytest.approx(exact, rel=1e-7, abs=1e-9 * np.abs(H).max() ** power)


def test_quadrature_with_every_step_recovers_the_spectrum(case):
    net, X, y, H = case
    exact = np.linalg.eigvalsh(H)
    quadrature = stochastic_lanczos_quadrature(HessianOperator(net, X, y), 1, len(exact), seed=2)
    # The Ritz values of a full Krylov space are the eigenvalues (those the probe touches).
    heavy = quadrature.nodes[quadrature.weights > 1e-8]
    nearest = np.min(np.abs(heavy[:, None] - exact[None, :]), axis=1)
    assert np.max(nearest) <= 1e-7 * np.abs(exact).max()
    assert quadrature.nodes.max() == pytest.approx(exact.max(), rel=1e-9)
    # The mean over many probes of the first two moments estimates tr(H)/P and tr(H^2)/P.
    many = stochastic_lanczos_quadrature(HessianOperator(net, X, y), 400, 6, seed=5)
    assert many.moment(1) == pytest.approx(np.trace(H) / len(exact), rel=0.1)
    assert many.moment(2) == pytest.approx(np.sum(H * H) / len(exact), rel=0.1)


def test_exact_quadrature_density_integrates_to_one_and_counts_negatives():
    values = np.array([-2.0, -0.5, 0.0, 1.0, 3.0])
    quadrature = exact_quadrature(values)
    grid = np.linspace(-10, 10, 4001)
    assert np.trapezoid(quadrature.density(grid, 0.3), grid) == pytest.approx(1.0, rel=1e-6)
    assert quadrature.negative_share() == pytest.approx(0.4)
    assert quadrature.moment(1) == pytest.approx(values.mean())


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("objective", ["default", "sklearn"])
def test_sample_major_products_equal_the_stacked_r_operator(activation, objective):
    from sklandscape.model.gradients import hessian_vector_product
    from sklandscape.model.hessian_products import hessian_matmat

    model, X, y = fitted_mlp((5, 4), activation, n_features=3, n=50)
    cases = [Network.from_estimator(model).with_objective(objective, alpha=0.2)]
    net, Xc, yc = _classifier()
    cases.append(net)
    for net, X_, y_ in ((cases[0], X, y), (cases[1], Xc, yc)):
        V = np.random.default_rng(4).standard_normal((6, len(net.flat)))
        stacked = hessian_vector_product(net, net.flat[None, :], X_, y_, V)
        fast = hessian_matmat(net, X_, y_, V)
        np.testing.assert_allclose(fast, stacked, rtol=1e-11, atol=1e-13 * np.abs(stacked).max())


@pytest.mark.parametrize("kind", ["regressor", "sklearn_objective", "binary", "multiclass"])
def test_exact_trace_of_a_relu_network_equals_the_full_hessians(kind):
    from sklearn.datasets import load_breast_cancer

    from sklandscape.model.hessian_products import piecewise_linear_trace

    if kind in ("regressor", "sklearn_objective"):
        model, X, y = fitted_mlp((6, 5), "relu", n_features=3, n=70, max_iter=200)
        net = Network.from_estimator(model)
        if kind == "sklearn_objective":
            net = net.with_objective("sklearn", alpha=0.3)
    else:
        raw = load_breast_cancer() if kind == "binary" else load_wine()
        X = (raw.data - raw.data.mean(axis=0)) / raw.data.std(axis=0)
        y = raw.target
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = MLPClassifier(hidden_layer_sizes=(6, 4), max_iter=100,
                                  random_state=0).fit(X, y)
        net = Network.from_estimator(model)
    exact = float(np.trace(hessian(net, X, y)))
    assert piecewise_linear_trace(net, X, y) == pytest.approx(exact, rel=1e-10)


def test_exact_trace_refuses_smooth_activations():
    from sklandscape.model.hessian_products import piecewise_linear_trace

    net, X, y = _regressor()  # tanh
    with pytest.raises(ValueError, match="relu or identity"):
        piecewise_linear_trace(net, X, y)
