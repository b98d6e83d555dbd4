"""Paths between networks: every cell is scikit-learn's own loss at those weights, the curve
meets its ends exactly, the barrier is Frankle et al.'s, and the curve's gradient is exact."""

from __future__ import annotations

import copy
import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_wine
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

import sklandscape as sl
from sklandscape.analyses.connectivity import (
    barrier,
    bezier_points,
    curve_t,
    linear_points,
    plane_basis,
    plane_coordinates,
    train_control,
)
from sklandscape.model.network import Network


def _models(kind, seeds=(0, 1, 2), hidden=(6,)):
    if kind == "classifier":
        X, y = load_wine(return_X_y=True)
        make = MLPClassifier
    else:
        X, y = load_diabetes(return_X_y=True)
        y = y / 100
        make = MLPRegressor
    X = StandardScaler().fit_transform(X)
    X, X_test, y, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = [make(hidden_layer_sizes=hidden, solver="lbfgs", max_iter=300,
                       random_state=s).fit(X, y) for s in seeds]
    return models, X, y, X_test, y_test


def _estimator_at(model, net: Network, flat):
    found = copy.deepcopy(model)
    found.coefs_, found.intercepts_ = net.with_flat(flat).to_estimator_arrays()
    return found


def _sklearn_loss(model, X, y):
    if hasattr(model, "predict_proba"):
        return log_loss(y, model.predict_proba(X), labels=model.classes_)
    return mean_squared_error(y, model.predict(X))


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_every_path_cell_is_scikit_learns_loss_at_those_weights(kind):
    models, X, y, X_test, y_test = _models(kind)
    result = sl.connectivity(models, X, y, heldout=(X_test, y_test), resolution=7,
                             curve_max_iter=15, plane_resolution=5, names=["a", "b", "c"])
    paths, pairs, landmarks = (result.tables[k] for k in ("paths", "pairs", "landmarks"))
    nets = {n: Network.from_estimator(m) for n, m in zip("abc", models)}
    controls = result.tables["controls"]
    for (first, second), rows in paths.groupby(["first", "second"]):
        a, b_raw = nets[first], nets[second]
        b = Network.from_estimator(sl.align(models["abc".index(first)],
                                            models["abc".index(second)]))
        control = controls[(controls["first"] == first) & (controls["second"] == second)]
        assert control["name"].tolist() == a.names
        control = control["value"].to_numpy()
        for path, cells in rows.groupby("path"):
            for cell in cells.itertuples():
                if path == "linear":
                    flat = linear_points(a.flat, b_raw.flat, [cell.t])[0]
                elif path == "aligned":
                    flat = linear_points(a.flat, b.flat, [cell.t])[0]
                else:
                    flat = bezier_points(a.flat, control, b.flat, [cell.t])[0]
                model = _estimator_at(models[0], a, flat)
                assert cell.loss == pytest.approx(_sklearn_loss(model, X, y), rel=1e-12)
                assert cell.loss_heldout == pytest.approx(
                    _sklearn_loss(model, X_test, y_test), rel=1e-12)
                if kind == "classifier":
                    assert cell.accuracy == accuracy_score(y, model.predict(X))
        # every path starts at a; the aligned b is b's function (up to the sums' order)
        ends = rows[rows["t"].isin([0.0, 1.0])].groupby("t")["loss"]
        assert (ends.max() - ends.min() <= 1e-12 * ends.max()).all()
        marks = landmarks[(landmarks["first"] == first) & (landmarks["second"] == second)]
        assert marks.set_index("point").loc["first", "loss"] == rows["loss"].iloc[0]
    assert (pairs["units_moved"] > 0).any()


def test_the_curve_meets_its_ends_exactly_and_is_in_its_plane():
    rng = np.random.default_rng(0)
    a, c, b = rng.normal(size=(3, 20))
    ends = bezier_points(a, c, b, [0.0, 1.0])
    assert np.array_equal(ends[0], a) and np.array_equal(ends[1], b)
    line = linear_points(a, b, [0.0, 1.0])
    assert np.array_equal(line[0], a) and np.array_equal(line[1], b)
    basis = plane_basis(a, b, c, b)
    x, y, off = plane_coordinates(bezier_points(a, c, b, np.linspace(0, 1, 9)), a, basis)
    assert np.all(off < 1e-12)
    assert np.allclose(np.stack(basis) @ np.stack(basis).T, np.eye(2), atol=1e-14)


def test_barrier_is_the_largest_excess_over_the_ends_line():
    t = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    assert barrier(t, np.array([1.0, 2.0, 3.0, 2.5, 2.0])) == pytest.approx(3.0 - 1.5)
    assert barrier(t, np.array([1.0, 0.5, 0.5, 0.5, 2.0])) == 0.0  # below the line: 0
    assert np.isnan(barrier(t, np.array([1.0, np.inf, 0.5, 0.5, 2.0])))


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_the_curves_gradient_matches_finite_differences(kind):
    models, X, y, *_ = _models(kind, seeds=(0, 1))
    a, b = (Network.from_estimator(m) for m in models)
    from sklandscape.api.inputs import inputs_of

    net, Xn, yn = inputs_of(models[0], X, y)
    t = curve_t(4)

    def mean_loss(control):
        return float(np.mean([net.with_flat(f).loss(Xn, yn)
                              for f in bezier_points(a.flat, control, b.flat, t)]))

    rng = np.random.default_rng(1)
    control = 0.5 * (a.flat + b.flat) + 0.1 * rng.normal(size=a.flat.size)
    # one L-BFGS iteration from `control` gives its gradient through the objective: compare a
    # directional derivative instead, with train_control's own objective reached via scipy
    from sklandscape.model.gradients import loss_and_gradient

    weight = (2 * t * (1 - t))[:, None] / len(t)
    losses, gradients = loss_and_gradient(net, bezier_points(a.flat, control, b.flat, t), Xn, yn)
    gradient = (weight * gradients).sum(axis=0)
    direction = rng.normal(size=control.size)
    h = 1e-5
    numeric = (mean_loss(control + h * direction) - mean_loss(control - h * direction)) / (2 * h)
    assert gradient @ direction == pytest.approx(numeric, rel=1e-6)
    assert np.mean(losses) == pytest.approx(mean_loss(control), rel=1e-12)


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_the_trained_curve_lowers_the_mean_loss_and_its_barrier(kind):
    models, X, y, *_ = _models(kind, seeds=(0, 1, 2))
    result = sl.connectivity(models, X, y, resolution=21, plane_resolution=5)
    pairs = result.tables["pairs"]
    assert (pairs["curve_mean_loss"] <= pairs["curve_mean_loss_start"]).all()
    assert (pairs["barrier_curve"] <= pairs["barrier_aligned"] + 1e-12).all()
    assert (pairs["distance_aligned"] <= pairs["distance"]).all()


def test_train_control_starts_from_the_line_and_reports_its_work():
    models, X, y, *_ = _models("regressor", seeds=(0, 1))
    from sklandscape.api.inputs import inputs_of

    net, Xn, yn = inputs_of(models[0], X, y)
    b = Network.from_estimator(sl.align(models[0], models[1]))
    control, info = train_control(net, Xn, yn, net.flat, b.flat, points=8, max_iter=5)
    assert info["curve_iterations"] <= 5 and info["curve_evaluations"] >= 1
    assert info["curve_mean_loss"] <= info["curve_mean_loss_start"]
    assert control.shape == net.flat.shape


@pytest.mark.parametrize("options, message", [
    ({"resolution": 2}, "resolution: 2 is less than the minimum of 3"),
    ({"resolution": 5.0}, "resolution: 5.0 is not an integer"),
    ({"curve_points": 0}, "curve_points: 0 is less than the minimum of 1"),
    ({"curve_max_iter": True}, "curve_max_iter: True is not an integer"),
    ({"plane_resolution": 2000}, "plane_resolution: 2000 is greater than the maximum of 1001"),
    ({"margin": float("nan")}, "margin: nan is not a finite number"),
    ({"margin": -1}, "margin: -1 is less than the minimum of 0"),
    ({"method": "sinkhorn"}, "method: 'sinkhorn' is not one of 'weight', 'activation'"),
    ({"names": ["a", "a"]}, "names must give each"),
])
def test_bad_options_are_refused_before_any_work(options, message):
    models, X, y, *_ = _models("regressor", seeds=(0, 1))
    with pytest.raises(ValueError, match=re.escape(message)):
        sl.connectivity(models, X, y, **options)


def test_fewer_than_two_or_mixed_models_are_refused():
    models, X, y, *_ = _models("regressor", seeds=(0, 1))
    with pytest.raises(ValueError, match="at least two networks"):
        sl.connectivity(models[:1], X, y)
    other, *_ = _models("regressor", seeds=(0,), hidden=(3,))
    with pytest.raises(ValueError, match="model_1 differs from the reference in its layer_sizes"):
        sl.connectivity([models[0], other[0]], X, y)


def test_progress_counts_the_curves_iterations_within_each_pair(monkeypatch, caplog):
    """A pair's curve training is most of the work: progress moves within a pair, not only
    between pairs, and ends at 100%."""
    monkeypatch.setenv("SKLANDSCAPE_PROGRESS_EVERY", "0")
    models, X, y, _, _ = _models("classifier", seeds=(0, 1))
    with caplog.at_level("INFO", logger="sklandscape"):
        sl.connectivity(models, X, y, resolution=5, curve_points=4, curve_max_iter=20,
                        plane_resolution=3)
    steps = [r.getMessage() for r in caplog.records if "steps (curve iterations" in r.getMessage()]
    assert len(steps) >= 5, steps  # one pair: several lines before the end
    assert any("/21 steps" in line and "(100%)" not in line for line in steps), steps
    assert "21/21 steps" in steps[-1] and "(100%)" in steps[-1], steps[-1]
