"""The output update (sklandscape.engine.output_slices): a classifier's or a multi-output
regressor's weights slice, every pair kind x activation x binary/multiclass/multi-output, each
cell against scikit-learn's own log_loss(predict_proba) and accuracy of predict (or
mean_squared_error of predict) with the weights set in a copy of the model; tiles give the
whole grid's bits."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_linnerud, load_wine
from sklearn.metrics import log_loss, mean_squared_error
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from sklandscape.engine.landscape import tile_rows, weights_grid
from sklandscape.engine.structured import plan_pair, weights_slice_grid, weights_slice_measures
from sklandscape.model.network import Network

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
# A d-4-3-K network: a pair of each kind the single-output regressor's engine names (the
# output update takes them all), in both orientations (the first name is the slow axis).
PAIRS = {
    "output-layer pair": [("W3[1,0]", "b3[0]"), ("b3[0]", "W3[2,0]")],
    "output quadratic": [("W2[1,2]", "W3[2,0]"), ("W3[0,0]", "W1[0,1]")],
    "separable": [("W2[0,1]", "W2[2,0]"), ("b2[2]", "W2[1,0]")],
    "one unit": [("W2[0,2]", "W2[1,2]"), ("W1[1,0]", "W2[0,1]"), ("b2[1]", "b1[2]")],
    "rank update": [("W1[0,0]", "W1[1,2]"), ("b1[1]", "W1[2,1]"), ("W1[0,3]", "b1[3]")],
}


def _data(kind):
    if kind == "multi-output":
        X, y = load_linnerud(return_X_y=True)
        return StandardScaler().fit_transform(X), StandardScaler().fit_transform(y)
    X, y = (load_breast_cancer if kind == "binary" else load_wine)(return_X_y=True)
    return StandardScaler().fit_transform(X)[::3, :4], y[::3]


@pytest.fixture(scope="module", params=["binary", "multiclass", "multi-output"])
def fitted(request):
    X, y = _data(request.param)
    models = {}
    for activation in ACTIVATIONS:
        estimator = (MLPRegressor if request.param == "multi-output" else MLPClassifier)(
            hidden_layer_sizes=(4, 3), activation=activation, max_iter=80, random_state=0,
            alpha=0.05)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            models[activation] = estimator.fit(X, y)
    return request.param, models, X, y


def _reference(model, net, flat, X, y):
    """scikit-learn's loss (and accuracy) of a copy of the model with these weights."""
    clone = copy.deepcopy(model)
    clone.coefs_, clone.intercepts_ = net.with_flat(flat).to_estimator_arrays()
    if not hasattr(model, "classes_"):
        return {"loss": mean_squared_error(y, clone.predict(X))}
    return {"loss": log_loss(y, clone.predict_proba(X), labels=model.classes_),
            "accuracy": float(np.mean(clone.predict(X) == y))}


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_every_pair_kind_equals_sklearns_loss(fitted, kind, activation):
    target, models, X, y = fitted
    model = models[activation]
    net = Network.from_estimator(model)
    labels = np.searchsorted(model.classes_, y).astype(float) if target != "multi-output" else y
    for axes in PAIRS[kind]:
        assert plan_pair(net, axes).kind == "output_update"
        grid = weights_grid(net, axes, span=1.5, resolution=(5, 4))
        found = weights_slice_grid(net, X, labels, grid)
        assert set(found) == ({"loss"} if target == "multi-output" else {"loss", "accuracy"})
        points = grid.points()
        for cell in (0, 7, 13, grid.size - 1):
            flat = net.with_values(dict(zip(axes, points[cell]))).flat
            expected = _reference(model, net, flat, X, y)
            row, col = divmod(cell, grid.shape[1])
            assert found["loss"][row, col] == pytest.approx(expected["loss"], rel=1e-12, abs=0)
            if "accuracy" in expected:
                assert found["accuracy"][row, col] == expected["accuracy"]


def test_sklearns_objective_adds_its_penalty(fitted):
    target, models, X, y = fitted
    model = models["tanh"]
    net = Network.from_estimator(model).with_objective("sklearn", model.alpha)
    labels = np.searchsorted(model.classes_, y).astype(float) if target != "multi-output" else y
    axes = ("W1[0,1]", "W3[2,0]")
    grid = weights_grid(net, axes, span=1.0, resolution=5)
    found = weights_slice_grid(net, X, labels, grid)["loss"]
    for cell in (0, 12, 24):
        flat = net.with_values(dict(zip(axes, grid.points()[cell]))).flat
        clone = net.with_flat(flat)
        data = _reference(model, net, flat, X, y)["loss"]
        coefs = np.concatenate([c.ravel() for c in clone.to_estimator_arrays()[0]])
        penalty = 0.5 * model.alpha * float(coefs @ coefs) / len(y)
        half = 0.5 if target == "multi-output" else 1.0  # scikit-learn's squared_error is ½MSE
        assert found.flat[cell] == pytest.approx(half * data + penalty, rel=1e-12)


def test_any_band_of_rows_gives_the_whole_grids_bits(fitted):
    target, models, X, y = fitted
    net = Network.from_estimator(models["relu"])
    labels = np.searchsorted(models["relu"].classes_, y).astype(float) \
        if target != "multi-output" else y
    grid = weights_grid(net, ("W1[1,2]", "W2[0,1]"), span=1.0, resolution=(19, 6))
    whole = weights_slice_grid(net, X, labels, grid)
    for tiles in (2, 3, 7):
        for tile in range(tiles):
            for first, columns in weights_slice_measures(net, X, labels, grid,
                                                         tile_rows(19, tile, tiles)):
                for key, values in columns.items():
                    np.testing.assert_array_equal(values, whole[key][first : first + len(values)])
