"""Whole-network curvature through the public API: the matrix-free path against the exact one
on the same network, epsilon-sharpness against a brute-force search of the box's corners,
and the eigenvector cuts against sklearn's predict and the second-order model."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklandscape as sl
from conftest import fitted_mlp
from sklandscape.analyses.sharpness import Spectrum, eigen_cuts, epsilon_sharpness, spectrum
from sklandscape.model.network import Network


def _fitted(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def test_matrix_free_curvature_agrees_with_the_exact_path_on_real_data():
    X, y = load_diabetes(return_X_y=True)
    X, y = X[:200], y[:200] / 100
    model = _fitted(make_pipeline(StandardScaler(), MLPRegressor(
        hidden_layer_sizes=(12, 8), max_iter=300, random_state=0)), X, y)
    slice_ = sl.weights(model, X, y, axes=("W1[0,0]", "W2[1,1]"), span=0.5, resolution=7)
    exact = sl.curvature(model, X, y, slice_)
    free = sl.curvature(model, X, y, slice_, full_hessian_max_weights=0, trace_probes=400,
                        top_k=4, bottom_max_products=20000)
    assert exact.metadata["method"] == "exact" and free.metadata["method"] == "matrix-free"
    top_exact = exact.tables["hessian"]["eigenvalue"].to_numpy()[-4:]
    top_free = free.tables["hessian"].query("which == 'top'")["eigenvalue"].to_numpy()
    np.testing.assert_allclose(top_free, top_exact, rtol=1e-8)
    # relu: the trace is exact there too (the Gauss-Newton diagonal), no standard error
    assert free.metrics["hessian_trace_se"] == 0.0
    assert free.metrics["hessian_trace"] == pytest.approx(exact.metrics["hessian_trace"],
                                                          rel=1e-10)
    # tanh: Hutchinson's estimate, within its standard error
    smooth = _fitted(make_pipeline(StandardScaler(), MLPRegressor(
        hidden_layer_sizes=(12, 8), activation="tanh", max_iter=300, random_state=0)), X, y)
    smooth_slice = sl.weights(smooth, X, y, axes=("W1[0,0]", "W2[1,1]"), span=0.5, resolution=5)
    estimate = sl.curvature(smooth, X, y, smooth_slice, full_hessian_max_weights=0,
                            trace_probes=400, top_k=2, bottom_max_products=50)
    reference = sl.curvature(smooth, X, y, smooth_slice, top_k=2)
    se = estimate.metrics["hessian_trace_se"]
    assert 0 < se and abs(estimate.metrics["hessian_trace"]
                          - reference.metrics["hessian_trace"]) <= 4 * se
    bottom = free.tables["hessian"].query("which == 'bottom'")["eigenvalue"].to_numpy()
    scale = np.abs(top_exact).max()
    np.testing.assert_allclose(bottom, exact.tables["hessian"]["eigenvalue"].to_numpy()[:4],
                               atol=1e-7 * scale)
    assert free.tables["hessian_matrix"].empty and len(exact.tables["hessian_matrix"]) == 245
    # The cuts go along the same eigenvectors (up to sign: the loss is even there to 2nd order)
    cut_exact = exact.tables["eigen_cuts"].query("rank == 0")["loss"].to_numpy()
    cut_free = free.tables["eigen_cuts"].query("rank == 0")["loss"].to_numpy()
    assert np.allclose(cut_free, cut_exact, rtol=1e-6) or np.allclose(cut_free, cut_exact[::-1],
                                                                       rtol=1e-6)
    # Summary metrics only: no metric per eigenvalue.
    assert sorted(k for k in free.metrics if k.startswith("hessian_top_")) == [
        f"hessian_top_{k}" for k in range(1, 5)]


def test_epsilon_sharpness_beats_every_corner_of_its_box():
    model, X, y = fitted_mlp((2,), "tanh", n=60, max_iter=500)
    net = Network.from_estimator(model)
    epsilon = 1e-3
    found = epsilon_sharpness(net, X, y, epsilon, steps=30)
    box = epsilon * (np.abs(net.flat) + 1)

    def predicted_mse(flat):
        model.coefs_, model.intercepts_ = net.with_flat(flat).to_estimator_arrays()
        return float(np.mean((model.predict(X) - y) ** 2))

    corners = [predicted_mse(net.flat + box * np.array(signs))
               for signs in itertools.product((-1.0, 1.0), repeat=len(net.flat))]
    assert found.loss == pytest.approx(predicted_mse(net.flat), rel=1e-12)
    assert found.sharpest_loss >= max(corners) * (1 - 1e-9)
    assert found.value == pytest.approx(100 * (found.sharpest_loss - found.loss)
                                        / (1 + found.loss))


def test_sharpness_and_cuts_of_a_classifier_with_heldout_rows():
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    train, held = slice(0, 400), slice(400, None)
    model = _fitted(MLPClassifier(hidden_layer_sizes=(8,), max_iter=200, random_state=0),
                    X[train], y[train])
    net = Network.from_estimator(model)
    found = epsilon_sharpness(net, X[train], y[train], 1e-3, 10, heldout=(X[held], y[held]))
    assert found.heldout_loss == pytest.approx(
        log_loss(y[held], model.predict_proba(X[held])), rel=1e-10)
    assert found.value > 0 and np.isfinite(found.heldout_sharpest_loss)
    top = spectrum(net, X[train], y[train], {"top_k": 2})
    assert isinstance(top, Spectrum) and top.method == "exact"
    cuts = eigen_cuts(net, X[train], y[train], top.top, points=21, heldout=(X[held], y[held]))
    first = cuts[cuts["rank"] == 0]
    t, loss, quadratic = (first[c].to_numpy() for c in ("t", "loss", "quadratic"))
    # Every cut point is sklearn's log-loss with the weights moved along the eigenvector.
    vector = top.top.vectors[:, -1]
    for k in (0, 7, 20):
        model.coefs_, model.intercepts_ = net.with_flat(net.flat + t[k] * vector) \
            .to_estimator_arrays()
        assert loss[k] == pytest.approx(log_loss(y[train], model.predict_proba(X[train])),
                                        rel=1e-10)
    centre = len(t) // 2
    assert loss[centre] == pytest.approx(quadratic[centre], rel=1e-12)

    def sklearn_loss(step):
        model.coefs_, model.intercepts_ = net.with_flat(net.flat + step * vector) \
            .to_estimator_arrays()
        return log_loss(y[train], model.predict_proba(X[train]))

    # The curvature along the cut is its eigenvalue: a second difference of sklearn's loss.
    h = 1e-3
    second = (sklearn_loss(h) - 2 * sklearn_loss(0.0) + sklearn_loss(-h)) / h**2
    assert second == pytest.approx(top.lambda_max, rel=1e-4)
    assert first["eigenvalue"].iloc[0] == pytest.approx(top.lambda_max)
    assert "loss_heldout" in cuts


@pytest.mark.parametrize("directions", ["top_two", "top_bottom"])
def test_hessian_plane_is_the_loss_along_the_exact_eigenvectors(directions):
    X, y = load_diabetes(return_X_y=True)
    X, y = X[:150], y[:150] / 100
    model = _fitted(make_pipeline(StandardScaler(), MLPRegressor(
        hidden_layer_sizes=(8,), max_iter=400, random_state=1)), X, y)
    plane = sl.hessian_plane(model, X, y, directions=directions, span=0.4, resolution=9,
                             heldout=(X[:20], y[:20]), bottom_max_products=20000)
    net = Network.from_estimator(model)
    from sklandscape.model.gradients import hessian
    H = hessian(net, X, y)
    values, vectors = np.linalg.eigh((H + H.T) / 2)
    expected = (values[-1], values[-2]) if directions == "top_two" else (values[-1], values[0])
    found = plane.metadata["eigenvalues"]
    scale = np.abs(values).max()
    assert found["d1"] == pytest.approx(expected[0], rel=1e-8)
    assert found["d2"] == pytest.approx(expected[1], abs=1e-8 * scale)
    d = plane.tables["directions"]
    assert abs(d["d1"].to_numpy() @ vectors[:, -1]) == pytest.approx(1.0, abs=1e-6)
    # Cells against sklearn's predict with the weights moved in a copy of the model.
    mlp = model[-1]
    Xs = model[0].transform(X)
    for _, row in plane.frame.sample(5, random_state=0).iterrows():
        moved = net.flat + row["a"] * d["d1"].to_numpy() + row["b"] * d["d2"].to_numpy()
        mlp.coefs_, mlp.intercepts_ = net.with_flat(moved).to_estimator_arrays()
        assert row["loss"] == pytest.approx(np.mean((mlp.predict(Xs) - y) ** 2), rel=1e-9)
    assert "loss_heldout" in plane.frame and plane.figure_names == ["plane"]
    plane.plot()
