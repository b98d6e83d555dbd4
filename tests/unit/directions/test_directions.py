"""Directions and their evaluation, against sklearn's predict, numpy's lstsq and closed forms."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from conftest import fitted_mlp
from sklandscape.directions.planes import (
    cosine,
    filter_normalise,
    interpolation_alphas,
    interpolation_points,
    random_plane,
    trajectory_plane,
    weight_pairs,
)
from sklandscape.engine.landscape import axis_values, parameter_losses, plane_grid, plane_slice
from sklandscape.model.network import Network
from sklandscape.model.trajectory import record_fit

N1_NAMES = ["W1[0,0]", "W1[0,1]", "b1[0]", "b1[1]", "W2[0,0]", "W2[1,0]", "b2[0]"]


def predict_mse(model, flat, X, y):
    """The reference: put a flat vector on the sklearn model, then call predict."""
    net = Network.from_estimator(model)
    model.coefs_, model.intercepts_ = Network(
        net.layer_sizes, net.activation, net.out_activation, flat).to_estimator_arrays()
    return float(np.mean((model.predict(X) - y) ** 2))


def direction_arrays(net, d):
    return Network(net.layer_sizes, net.activation, net.out_activation, d).to_estimator_arrays()


# --- filter normalisation ----------------------------------------------------------------


@pytest.mark.parametrize("hidden,n_features", [((2,), 1), ((10, 10), 2), ((4, 3, 5), 3)])
def test_each_neurons_incoming_weights_get_the_trained_norm(hidden, n_features):
    model, _, _ = fitted_mlp(hidden, "tanh", n_features=n_features)
    net = Network.from_estimator(model)
    raw = np.random.default_rng(5).standard_normal(net.flat.size)
    coefs, intercepts = direction_arrays(net, filter_normalise(net, raw, zero_biases=True))
    raw_coefs, _ = direction_arrays(net, raw)
    for layer, (coef, trained) in enumerate(zip(coefs, model.coefs_)):
        np.testing.assert_allclose(np.linalg.norm(coef, axis=0), np.linalg.norm(trained, axis=0),
                                   rtol=1e-12)
        # only rescaled, per neuron: same direction as the Gaussian draw
        scale = np.linalg.norm(trained, axis=0) / np.linalg.norm(raw_coefs[layer], axis=0)
        np.testing.assert_allclose(coef, raw_coefs[layer] * scale, rtol=1e-12)
        assert not np.any(intercepts[layer])


def test_without_zeroed_biases_each_neuron_is_normalised_with_its_bias():
    model, _, _ = fitted_mlp((3, 2), "tanh", n_features=2)
    net = Network.from_estimator(model)
    raw = np.random.default_rng(2).standard_normal(net.flat.size)
    coefs, intercepts = direction_arrays(net, filter_normalise(net, raw, zero_biases=False))
    for coef, bias, trained_coef, trained_bias in zip(coefs, intercepts, model.coefs_,
                                                      model.intercepts_):
        for j in range(coef.shape[1]):
            assert np.linalg.norm(np.append(coef[:, j], bias[j])) == pytest.approx(
                np.linalg.norm(np.append(trained_coef[:, j], trained_bias[j])), rel=1e-12)
        assert np.all(bias != 0)


def test_random_plane_is_reproducible_from_its_seed(n1_model):
    net = Network.from_estimator(n1_model[0])
    first, again, other = random_plane(net, 3), random_plane(net, 3), random_plane(net, 4)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])
    assert cosine(first[0], first[0]) == pytest.approx(1.0)


# --- evaluation on a plane and along a line ----------------------------------------------


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("hidden,n_features", [((2,), 1), ((4, 3), 2)])
def test_plane_points_equal_predict_with_the_moved_weights(activation, hidden, n_features):
    model, X, y = fitted_mlp(hidden, activation, n_features=n_features, n=90)
    net = Network.from_estimator(model)
    d1, d2 = random_plane(net, 0)
    grid = plane_grid(axis_values(0.0, 1.0, 9), np.linspace(-0.5, 1.5, 7))
    loss = plane_slice(net, X, y, grid, net.flat, (d1, d2))
    for i, j in np.random.default_rng(1).integers(0, [9, 7], size=(10, 2)):
        moved = net.flat + grid.first[i] * d1 + grid.second[j] * d2
        assert loss[i, j] == pytest.approx(predict_mse(model, moved, X, y), rel=1e-10, abs=1e-14)


@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu"])
def test_a_scaled_classifiers_plane_points_equal_its_log_loss(activation):
    """The first layer's products, reused across the plane, see the Pipeline's scaled inputs;
    binary and multiclass cells equal log_loss(predict_proba) and accuracy at those weights."""
    from sklearn.datasets import load_breast_cancer, load_wine
    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklandscape.engine.landscape import plane_measures

    for load in (load_breast_cancer, load_wine):
        X, y = load(return_X_y=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = make_pipeline(StandardScaler(), MLPClassifier(
                hidden_layer_sizes=(8, 5), activation=activation, max_iter=60,
                random_state=0)).fit(X, y)
        net = Network.from_estimator(model)
        d1, d2 = random_plane(net, 3)
        grid = plane_grid(axis_values(0.0, 1.0, 5), axis_values(0.0, 0.5, 3))
        found = plane_measures(net, X, np.searchsorted(model.classes_, y), grid, net.flat,
                               (d1, d2))
        mlp = model[-1]
        for i, j in [(0, 0), (2, 1), (4, 2), (1, 2)]:
            moved = net.with_flat(net.flat + grid.first[i] * d1 + grid.second[j] * d2)
            mlp.coefs_, mlp.intercepts_ = moved.to_estimator_arrays()
            assert found["loss"][i, j] == pytest.approx(
                log_loss(y, model.predict_proba(X), labels=model.classes_), rel=1e-12)
            assert found["accuracy"][i, j] == accuracy_score(y, model.predict(X))


def test_plane_centre_is_exactly_the_trained_loss(n1_model):
    model, X, y = n1_model
    net = Network.from_estimator(model)
    grid = plane_grid(axis_values(0.0, 1.0, 11), axis_values(0.0, 1.0, 11))
    loss = plane_slice(net, X, y, grid, net.flat, random_plane(net, 7))
    assert loss[5, 5] == float(np.mean((net.predict(X) - y) ** 2))
    assert loss[5, 5] == pytest.approx(float(np.mean((model.predict(X) - y) ** 2)), rel=1e-12)


def test_plane_chunks_give_the_same_numbers(n1_model, monkeypatch):
    import sklandscape.engine.landscape as landscape

    model, X, y = n1_model
    net = Network.from_estimator(model)
    grid = plane_grid(np.linspace(-1, 1, 13), np.linspace(-1, 1, 5))
    whole = plane_slice(net, X, y, grid, net.flat, random_plane(net, 1))
    monkeypatch.setattr(landscape, "CHUNK_BYTES", 3 * 8 * len(y) * 2 * 4)  # 4 points a chunk
    np.testing.assert_array_equal(whole, plane_slice(net, X, y, grid, net.flat,
                                                     random_plane(net, 1)))


def test_plane_rejects_a_direction_of_the_wrong_size(n1_model):
    net = Network.from_estimator(n1_model[0])
    grid = plane_grid([0.0], [0.0])
    with pytest.raises(ValueError, match="first direction has shape \\(6,\\); the network has 7"):
        plane_slice(net, *n1_model[1:], grid, net.flat, (np.zeros(6), np.zeros(7)))


def test_parameter_losses_equal_predict():
    model, X, y = fitted_mlp((5, 4), "relu", n_features=2)
    net = Network.from_estimator(model)
    flats = net.flat + 0.3 * np.random.default_rng(0).standard_normal((6, net.flat.size))
    losses = parameter_losses(net, X, y, flats)
    for k in range(6):
        assert losses[k] == pytest.approx(predict_mse(model, flats[k], X, y), rel=1e-10)


def test_interpolation_ends_are_the_initial_and_the_trained_model():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (100, 1))
    y = np.sin(X[:, 0])
    model = MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=200, random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        path = record_fit(model, X, y)
    net = Network.from_estimator(model)
    alphas = interpolation_alphas(-0.5, 1.5, 201)
    assert list(alphas[[50, 150]]) == [0.0, 1.0]
    points = interpolation_points(path.initial, net.flat, alphas)
    np.testing.assert_array_equal(points[50], path.initial)
    np.testing.assert_array_equal(points[150], net.flat)
    loss = parameter_losses(net, X, y, points)
    trained = float(np.mean((model.predict(X) - y) ** 2))
    initial = MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=1, random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        initial.fit(X, y)
    assert loss[150] == pytest.approx(trained, rel=1e-12)
    assert loss[50] == pytest.approx(predict_mse(initial, path.initial, X, y), rel=1e-12)
    assert loss[100] == pytest.approx(
        predict_mse(initial, 0.5 * path.initial + 0.5 * net.flat, X, y), rel=1e-12)


def test_interpolation_range_must_increase():
    with pytest.raises(ValueError, match="high > low"):
        interpolation_alphas(1.0, 1.0, 5)


# --- PCA plane of a path -----------------------------------------------------------------


def random_path(n=40, p=9, seed=0):
    """A curved path in p dimensions that ends at `end`, plus noise off any plane."""
    rng = np.random.default_rng(seed)
    end = rng.standard_normal(p)
    t = np.linspace(1.0, 0.0, n)[:, None]
    u, v, w = rng.standard_normal((3, p))
    states = end + t * 3 * u + t**2 * 2 * v + np.sin(6 * t) * 0.3 * w
    states[-1] = end
    return states, end


def test_projection_and_residual_rebuild_the_path():
    states, end = random_path()
    plane = trajectory_plane(states, end)
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-12)
    residual = states - plane.projected
    np.testing.assert_allclose(plane.projected + residual, states, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(residual, axis=1), plane.distances, atol=1e-12)
    # residuals are orthogonal to the plane
    np.testing.assert_allclose(residual @ plane.directions.T, 0.0, atol=1e-10)


def test_distance_from_the_plane_equals_lstsq_residual():
    states, end = random_path(seed=3)
    plane = trajectory_plane(states, end)
    basis = plane.directions.T  # (P, 2)
    for k, state in enumerate(states):
        coefficients, *_ = np.linalg.lstsq(basis, state - end, rcond=None)
        np.testing.assert_allclose(plane.coordinates[k], coefficients, atol=1e-10)
        reference = np.linalg.norm(state - end - basis @ coefficients)
        assert plane.distances[k] == pytest.approx(reference, abs=1e-10)


def test_plane_is_the_best_one_through_the_trained_weights():
    states, end = random_path(seed=4)
    plane = trajectory_plane(states, end)
    offsets = states - end
    eigenvalues = np.linalg.eigvalsh(offsets.T @ offsets)[::-1]  # independent of the SVD
    np.testing.assert_allclose(plane.explained, eigenvalues[:2] / eigenvalues.sum(), rtol=1e-9)
    assert np.sum(plane.distances**2) == pytest.approx(eigenvalues[2:].sum(), rel=1e-9)
    # a mean-centred PCA plane (Li et al.'s code), drawn through the same point, fits worse
    _, _, vt = np.linalg.svd(offsets - offsets.mean(axis=0), full_matrices=False)
    centred = offsets - (offsets @ vt[:2].T) @ vt[:2]
    assert np.sum(plane.distances**2) <= np.sum(centred**2) + 1e-12


def test_a_path_inside_a_plane_has_zero_distance_and_starts_on_the_positive_side():
    rng = np.random.default_rng(1)
    end, u, v = rng.standard_normal((3, 6))
    t = np.linspace(1, 0, 25)[:, None]
    plane = trajectory_plane(end + t * u + t**2 * v, end)
    np.testing.assert_allclose(plane.distances, 0.0, atol=1e-12)
    assert plane.explained.sum() == pytest.approx(1.0)
    assert np.all(plane.coordinates[0] >= 0)
    np.testing.assert_allclose(plane.coordinates[-1], 0.0, atol=1e-15)


def test_a_straight_path_still_gets_two_orthonormal_directions():
    end, u = np.zeros(4), np.array([1.0, 2.0, 0.0, 0.0])
    plane = trajectory_plane(end + np.linspace(1, 0, 5)[:, None] * u, end)
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-12)
    assert plane.explained[0] == pytest.approx(1.0) and plane.explained[1] == pytest.approx(0.0, abs=1e-20)
    np.testing.assert_allclose(plane.distances, 0.0, atol=1e-12)


# --- pairs -------------------------------------------------------------------------------


def test_all_pairs_of_n1():
    pairs = weight_pairs([1, 2, 1], "all")
    assert len(pairs) == 21 and pairs[0] == ("W1[0,0]", "W1[0,1]") and pairs[-1] == ("W2[1,0]", "b2[0]")
    assert all(N1_NAMES.index(x) < N1_NAMES.index(y) for x, y in pairs)


def test_listed_names_and_listed_pairs_keep_network_order():
    assert weight_pairs([1, 2, 1], ["b2[0]", "W1[0,0]", "b1[1]"]) == [
        ("W1[0,0]", "b1[1]"), ("W1[0,0]", "b2[0]"), ("b1[1]", "b2[0]")]
    assert weight_pairs([1, 2, 1], [["W2[0,0]", "W1[0,1]"], ["b1[0]", "b2[0]"]]) == [
        ("W1[0,1]", "W2[0,0]"), ("b1[0]", "b2[0]")]


@pytest.mark.parametrize("axes,message", [
    (["W1[0,0]", "W9[0,0]"], "no weight 'W9\\[0,0\\]'.*valid names"),
    (["W1[0,0]", "W1[0,0]"], "name a weight twice"),
    ([["b1[0]", "b1[0]"]], "names one weight twice"),
    ([["b1[0]", "b2[0]"], ["b2[0]", "b1[0]"]], "listed twice"),
    ("some", "must be 'all', a list of weight names or a list"),
])
def test_bad_axes_are_named(axes, message):
    with pytest.raises((ValueError, KeyError), match=message):
        weight_pairs([1, 2, 1], axes)
