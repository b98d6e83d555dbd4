"""Classifiers, scaling and held-out data through the public API, on scikit-learn's own data:
every kind's cells against sklearn.metrics.log_loss of predict_proba (to 1e-9 relative) and
accuracy against predict, with the weights set in a copy of the fitted model."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import sklandscape as sl
from conftest import fd_hessian
from sklandscape.model.gradients import hessian, sample_loss_input_gradient

RTOL = 1e-9
ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]


def _data(name):
    loader = {"breast_cancer": load_breast_cancer, "wine": load_wine, "iris": load_iris}[name]
    raw = loader()
    X = raw.data[::2, :5]  # every other row, five features: quick and still real
    y = np.asarray(raw.target_names)[raw.target[::2]]  # class names, as users have them
    return X, y


def _fitted(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def _mlp(model):
    return model.steps[-1][1] if hasattr(model, "steps") else model


def _moved(model, flat):
    """A copy of the fitted model (scaler included) with its MLP's weights set to `flat`."""
    net = sl.Network.from_estimator(model)
    clone = copy.deepcopy(model)
    _mlp(clone).coefs_, _mlp(clone).intercepts_ = net.with_flat(flat).to_estimator_arrays()
    return clone


def _reference(model, flat, X, y):
    clone = _moved(model, flat)
    return log_loss(y, clone.predict_proba(X), labels=_mlp(clone).classes_), \
        float(np.mean(clone.predict(X) == y))


def _cells(frame, k=5, seed=0):
    return frame.iloc[np.random.default_rng(seed).choice(len(frame), k, replace=False)]


@pytest.mark.parametrize("dataset", ["breast_cancer", "wine"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_weights_cells_equal_log_loss_of_predict_proba(dataset, activation):
    X, y = _data(dataset)
    model = _fitted(make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(4,), activation=activation, max_iter=60, random_state=0)), X, y)
    net = sl.Network.from_estimator(model)
    assert net.out_activation == ("logistic" if dataset == "breast_cancer" else "softmax")
    axes = ("W1[1,2]", "W2[3,0]")
    result = sl.weights(model, X, y, axes=axes, span=3.0, resolution=15)
    assert list(result.frame.columns) == [*axes, "loss", "accuracy"]
    for _, row in _cells(result.frame).iterrows():
        expected_loss, expected_accuracy = _reference(
            model, net.with_values({a: row[a] for a in axes}).flat, X, y)
        assert row["loss"] == pytest.approx(expected_loss, rel=RTOL)
        assert row["accuracy"] == expected_accuracy
    assert result.metrics["loss_centre"] == pytest.approx(log_loss(y, model.predict_proba(X)),
                                                          rel=RTOL)


@pytest.fixture(scope="module")
def wine_fit():
    X, y = _data("wine")
    train, heldout = np.arange(len(y)) % 4 != 0, np.arange(len(y)) % 4 == 0
    scaler = MinMaxScaler().fit(X[train])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = sl.fit(MLPClassifier(hidden_layer_sizes=(6,), activation="tanh", max_iter=80,
                                   random_state=0), scaler.transform(X[train]), y[train])
    model = make_pipeline(scaler, fit.model)
    return model, fit, X[train], y[train], X[heldout], y[heldout]


def test_every_direction_kind_equals_log_loss(wine_fit):
    model, fit, X, y, Xh, yh = wine_fit
    net = sl.Network.from_estimator(model)
    pairs = sl.weight_pairs(model, X, y, axes=["W1[0,0]", "b1[2]", "W2[1,2]"], resolution=7,
                            heldout=(Xh, yh))
    for _, row in _cells(pairs.frame).iterrows():
        flat = net.with_values({row["x_name"]: row["x"], row["y_name"]: row["y"]}).flat
        assert row["loss"] == pytest.approx(_reference(model, flat, X, y)[0], rel=RTOL)
        assert row["accuracy"] == _reference(model, flat, X, y)[1]
        assert row["accuracy_heldout"] == _reference(model, flat, Xh, yh)[1]
        assert row["loss_heldout"] == pytest.approx(_reference(model, flat, Xh, yh)[0], rel=RTOL)
    plane = sl.random_plane(model, X, y, seeds=[3], resolution=9, heldout=(Xh, yh))
    d = plane.tables["directions"]
    for _, row in _cells(plane.frame).iterrows():
        flat = net.flat + row["a"] * d["d1"].to_numpy() + row["b"] * d["d2"].to_numpy()
        assert row["loss"] == pytest.approx(_reference(model, flat, X, y)[0], rel=RTOL)
        assert row["accuracy"] == _reference(model, flat, X, y)[1]
        assert row["loss_heldout"] == pytest.approx(_reference(model, flat, Xh, yh)[0], rel=RTOL)
    # the Fit was made on the scaled inputs: its own network sees scaled X
    Xs = model.steps[0][1].transform(X)
    line = sl.interpolation(fit.model, Xs, y, fit, resolution=11)
    start, end = fit.trajectory.initial, fit.trajectory.final
    for _, row in _cells(line.frame).iterrows():
        flat = (1 - row["alpha"]) * start + row["alpha"] * end
        assert row["loss"] == pytest.approx(_reference(fit.model, flat, Xs, y)[0], rel=1e-8)
        assert row["accuracy"] == _reference(fit.model, flat, Xs, y)[1]
    pca = sl.trajectory_pca(fit.model, Xs, y, fit, resolution=7)
    d1, d2 = (np.asarray(pca.metadata["directions"][k]) for k in ("d1", "d2"))
    for _, row in _cells(pca.frame).iterrows():
        flat = net.flat + row["a"] * d1 + row["b"] * d2
        assert row["loss"] == pytest.approx(_reference(fit.model, flat, Xs, y)[0], rel=1e-8)
    for result in (pairs, plane, line, pca):
        for which in result.figure_names:
            assert result.plot(which).axes


def test_heldout_cells_and_figure(wine_fit):
    model, _, X, y, Xh, yh = wine_fit
    net = sl.Network.from_estimator(model)
    result = sl.weights(model, X, y, axes=("W1[4,1]", "b2[0]"), span=2.0, resolution=11,
                        heldout=(Xh, yh))
    assert {"loss_heldout", "accuracy_heldout"} <= set(result.frame.columns)
    for _, row in _cells(result.frame).iterrows():
        flat = net.with_values({"W1[4,1]": row["W1[4,1]"], "b2[0]": row["b2[0]"]}).flat
        loss, accuracy = _reference(model, flat, Xh, yh)
        assert row["loss_heldout"] == pytest.approx(loss, rel=RTOL)
        assert row["accuracy_heldout"] == accuracy
    assert result.metadata["heldout"]["n_samples"] == len(yh)
    assert result.metrics["heldout_loss_centre"] == pytest.approx(
        log_loss(yh, model.predict_proba(Xh), labels=_mlp(model).classes_), rel=RTOL)
    texts = [t.get_text() for ax in result.plot().axes for t in [ax.title]]
    assert any("held-out" in t for t in texts) and any("training" in t for t in texts)


def test_input_map_of_a_classifier_over_two_of_many_features():
    X, y = _data("iris")
    model = _fitted(MLPClassifier(hidden_layer_sizes=(5,), max_iter=300, random_state=0), X, y)
    result = sl.input_space(model, X, y, features=(2, 3), reference=7, resolution=13)
    frame = result.frame
    assert list(frame.columns) == ["x2", "x3", "target", "prediction", "probability", "loss"]
    full = np.repeat(X[[7]], len(frame), axis=0)
    full[:, 2], full[:, 3] = frame["x2"], frame["x3"]
    proba = model.predict_proba(full)
    target = frame["target"].to_numpy(int)
    np.testing.assert_allclose(frame["probability"], proba[np.arange(len(frame)), target],
                               rtol=1e-12)
    np.testing.assert_array_equal(model.classes_[frame["prediction"].to_numpy(int)],
                                  model.predict(full))
    assert result.metadata["plane"]["reference"] == X[7].tolist()
    titles = " ".join(ax.get_title() for ax in result.plot().axes)
    assert "predicted class" in titles


def test_hessian_of_the_log_loss_equals_finite_differences():
    X, y = _data("iris")
    model = _fitted(MLPClassifier(hidden_layer_sizes=(3,), activation="tanh", max_iter=40,
                                  random_state=0), X[:, :2], y)
    net = sl.Network.from_estimator(model)
    index = np.searchsorted(model.classes_, y).astype(float)

    def loss(flat):  # independent of our forward pass: sklearn's predict_proba and log_loss
        return log_loss(y, _moved(model, flat).predict_proba(X[:, :2]), labels=model.classes_)

    exact = hessian(net, X[:, :2], index)
    reference = fd_hessian(loss, net.flat, h=1e-4)
    np.testing.assert_allclose(exact, reference, atol=2e-6 * np.abs(exact).max())


def test_input_gradient_of_a_classifiers_loss_equals_finite_differences():
    X, y = _data("wine")
    model = _fitted(make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(4,), max_iter=100, random_state=0)), X, y)
    net = sl.Network.from_estimator(model)
    target = np.searchsorted(_mlp(model).classes_, y[:6]).astype(float)
    _, gradient = sample_loss_input_gradient(net, X[:6], target)
    h = 1e-6 * np.abs(X[:6]).max()
    for k in range(X.shape[1]):
        step = np.zeros(X.shape[1])
        step[k] = h
        up = -np.log(model.predict_proba(X[:6] + step)[np.arange(6), target.astype(int)])
        down = -np.log(model.predict_proba(X[:6] - step)[np.arange(6), target.astype(int)])
        np.testing.assert_allclose(gradient[:, k], (up - down) / (2 * h), rtol=1e-5, atol=1e-9)


def test_curvature_optimizers_and_attack_on_a_classifier():
    X, y = _data("breast_cancer")
    model = _fitted(make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(4,), max_iter=200, random_state=0)), X, y)
    slice_ = sl.weights(model, X, y, axes=("W1[0,0]", "W2[1,0]"), span=1.0, resolution=11)
    curvature = sl.curvature(model, X, y, slice_)
    assert curvature.tags["verdict"].startswith("log-loss on")
    runs = sl.optimizers(model, X, y, slice_, [[0.5, 0.5]], learning_rates=[0.1, 1.0],
                         max_steps=40)
    assert set(runs.tables["optimizer_runs"]["method"]) == {"gd", "momentum", "nesterov", "adam"}
    plane = sl.input_space(model, X, y, features=(0, 1), resolution=9)
    attack = sl.input_attack(model, X, y, plane, top_k=3, arrows=4, steps=5)
    worst = attack.tables["worst_inputs"]
    index = np.searchsorted(_mlp(model).classes_, y)
    own = -np.log(model.predict_proba(X)[np.arange(len(y)), index])
    np.testing.assert_allclose(worst["error"], np.sort(own)[::-1][:3], rtol=1e-10)
    assert (attack.tables["ascent"]["gain"] >= 0).all()
    for result in (curvature, runs, attack):
        for which in result.figure_names:
            assert result.plot(which).axes


def test_a_scaled_pipeline_is_followed_exactly():
    X, y = _data("wine")
    for scaler in (StandardScaler(), MinMaxScaler()):
        model = _fitted(make_pipeline(scaler, MLPClassifier(hidden_layer_sizes=(3,),
                                                             max_iter=50, random_state=0)), X, y)
        net = sl.Network.from_estimator(model)
        np.testing.assert_array_equal(net.predict(X), model.predict_proba(X))
    reg = _fitted(make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(3,),
                                                               max_iter=50, random_state=0)),
                  X, X[:, 0])
    np.testing.assert_array_equal(sl.Network.from_estimator(reg).predict(X), reg.predict(X))


def test_bad_classifier_input_is_named():
    X, y = _data("iris")
    model = _fitted(MLPClassifier(hidden_layer_sizes=(3,), max_iter=20, random_state=0), X, y)
    with pytest.raises(ValueError, match="y holds the label 'rose', which the classifier does "
                                         "not know; its classes are"):
        sl.weights(model, X, np.where(y == "setosa", "rose", y), axes=("W1[0,0]", "W2[0,0]"))
    multilabel = _fitted(MLPClassifier(hidden_layer_sizes=(3,), max_iter=20, random_state=0),
                         X, np.stack([y == "setosa", y == "virginica"], axis=1))
    with pytest.raises(ValueError, match="multilabel"):
        sl.weights(multilabel, X, y, axes=("W1[0,0]", "W2[0,0]"))
    regressor = _fitted(MLPRegressor(hidden_layer_sizes=(3,), max_iter=20), X, X[:, 0])
    with pytest.raises(ValueError, match="y holds 'setosa', not a number: a regressor"):
        sl.weights(regressor, X, y, axes=("W1[0,0]", "W2[0,0]"))
    with pytest.raises(ValueError, match=r"features \[0, 9\]: an input landscape needs two"):
        sl.input_space(model, X, y, features=(0, 9))


@pytest.mark.parametrize("estimator", ["regressor", "classifier"])
def test_the_sklearn_objective_is_what_sklearn_minimises(estimator):
    """objective="sklearn" at the trained weights is lbfgs' own final loss_, its cells are
    half the MSE (or the log-loss) plus 0.5 alpha |coefs|^2 / n computed from predict, and
    its gradient vanishes at lbfgs' optimum (the default objective's does not, alpha > 0)."""
    from sklandscape.model.gradients import loss_and_gradient

    X, y = _data("wine")
    X = StandardScaler().fit_transform(X)
    if estimator == "regressor":
        y = X[:, 0] * X[:, 1]
        X = X[:, 2:]
    cls = MLPClassifier if estimator == "classifier" else MLPRegressor
    model = _fitted(cls(hidden_layer_sizes=(4,), activation="tanh", solver="lbfgs", alpha=0.3,
                        max_iter=500, tol=1e-10, random_state=0), X, y)
    axes = ("W1[0,1]", "b2[0]")
    result = sl.weights(model, X, y, axes=axes, span=1.0, resolution=9, objective="sklearn")
    assert result.metrics["loss_centre"] == pytest.approx(model.loss_, rel=1e-9)
    assert result.metadata["network"]["objective"] == "sklearn"
    net = sl.Network.from_estimator(model)
    for _, row in _cells(result.frame).iterrows():
        clone = _moved(model, net.with_values({a: row[a] for a in axes}).flat)
        if estimator == "classifier":
            data = log_loss(y, clone.predict_proba(X), labels=clone.classes_)
        else:
            data = 0.5 * np.mean((clone.predict(X) - y) ** 2)
        penalty = 0.5 * 0.3 * sum(float((w**2).sum()) for w in clone.coefs_) / len(y)
        assert row["loss"] == pytest.approx(data + penalty, rel=RTOL)
    index = np.searchsorted(model.classes_, y).astype(float) if estimator == "classifier" else y
    _, gradient = loss_and_gradient(net.with_objective("sklearn", 0.3), net.flat, X, index)
    _, default = loss_and_gradient(net, net.flat, X, index)
    assert np.linalg.norm(gradient) < 1e-4 < np.linalg.norm(default)
    exact = hessian(net.with_objective("sklearn", 0.3), X, index)
    reference = fd_hessian(lambda f: net.with_objective("sklearn", 0.3).with_flat(f).loss(X, index),
                           net.flat, h=1e-4)
    np.testing.assert_allclose(exact, reference, atol=2e-6 * np.abs(exact).max())
