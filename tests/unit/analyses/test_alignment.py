"""Permutation alignment: a permuted copy is recovered bit for bit, the function is kept, and
each search's objective is at a true optimum of its assignment problems."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.neural_network import MLPClassifier, MLPRegressor

import sklandscape as sl
from sklandscape.analyses.alignment import (
    activation_matching,
    alignment_perms,
    permuted,
    weight_matching,
)
from sklandscape.model.network import Network

DEPTHS = [(6,), (7, 5), (6, 5, 4)]


def _fitted(kind, hidden, activation, seed=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "regressor":
            X, y = load_diabetes(return_X_y=True)
            model = MLPRegressor(hidden_layer_sizes=hidden, activation=activation,
                                 max_iter=50, random_state=seed)
        else:
            X, y = load_iris(return_X_y=True)
            model = MLPClassifier(hidden_layer_sizes=hidden, activation=activation,
                                  max_iter=50, random_state=seed)
        return model.fit(X, y), X


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
@pytest.mark.parametrize("hidden", DEPTHS)
# relu by activations is left out: dead units have constant activations, no data tells them
# apart (their order then follows the assignment's, not the copy's)
@pytest.mark.parametrize(("method", "activation"),
                         [("weight", "tanh"), ("activation", "tanh"), ("weight", "relu")])
def test_a_randomly_permuted_copy_is_aligned_back_bit_for_bit(kind, hidden, method, activation):
    """tanh units may also be flipped (a signed permutation); relu units only permuted."""
    model, X = _fitted(kind, hidden, activation)
    net = Network.from_estimator(model)
    rng = np.random.default_rng(7)
    perms = [rng.permutation(size) for size in hidden]
    signs = [rng.choice([-1.0, 1.0], size) if activation == "tanh" else np.ones(size)
             for size in hidden]
    copy = permuted(net, perms, signs)
    assert not np.array_equal(copy.flat, net.flat)
    copy_model = sl.align(model, model)  # an estimator carrying the copy's weights
    copy_model.coefs_, copy_model.intercepts_ = copy.to_estimator_arrays()
    np.testing.assert_allclose(copy_model.predict(X), model.predict(X), rtol=1e-12, atol=1e-12)
    found, found_signs = alignment_perms(net, copy, method, X)
    assert np.array_equal(permuted(copy, found, found_signs).flat, net.flat)  # bit for bit


def test_without_signs_a_flipped_tanh_network_stays_far():
    """The sign is what makes a flipped copy near: matched as permutations only, it is not."""
    model, X = _fitted("regressor", (6,), "tanh")
    net = Network.from_estimator(model)
    flipped = permuted(net, [np.arange(6)], [np.array([-1.0, 1, -1, 1, 1, -1])])
    perms, signs = weight_matching(net, flipped)
    assert (signs[0] == [-1, 1, -1, 1, 1, -1]).all()
    relu = Network.from_estimator(_fitted("regressor", (6,), "relu")[0])
    with pytest.raises(ValueError, match="only for an odd activation"):
        permuted(relu, [np.arange(6)], [np.array([-1.0, 1, 1, 1, 1, 1])])


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
@pytest.mark.parametrize("hidden", DEPTHS)
def test_the_aligned_estimator_is_the_same_function(kind, hidden):
    reference, X = _fitted(kind, hidden, "relu", seed=0)
    other, _ = _fitted(kind, hidden, "relu", seed=1)
    for method in ("weight", "activation"):
        aligned = sl.align(reference, other, X, method=method)
        assert type(aligned) is type(other) and aligned is not other
        assert not all(np.array_equal(a, b) for a, b in zip(aligned.coefs_, other.coefs_))
        np.testing.assert_allclose(aligned.predict(X), other.predict(X), rtol=1e-12, atol=1e-12)
        if kind == "classifier":
            np.testing.assert_allclose(aligned.predict_proba(X), other.predict_proba(X),
                                       rtol=1e-12, atol=1e-12)


def _inner(a: Network, b: Network) -> float:
    return float(a.flat @ b.flat)


def test_weight_matching_ends_where_no_layer_can_improve_alone():
    a = Network.from_estimator(_fitted("regressor", (6, 5, 4), "tanh", 0)[0])
    b = Network.from_estimator(_fitted("regressor", (6, 5, 4), "tanh", 1)[0])
    perms, signs = weight_matching(a, b)
    best = _inner(a, permuted(b, perms, signs))
    assert best > _inner(a, b)
    # brute force over each layer alone (6! · 2^6 at most), the others held: nothing better
    for k, size in enumerate((6, 5, 4)):
        for candidate in itertools.permutations(range(size)):
            for flips in itertools.product([-1.0, 1.0], repeat=size):
                trial, trial_signs = list(perms), list(signs)
                trial[k], trial_signs[k] = np.array(candidate), np.array(flips)
                assert _inner(a, permuted(b, trial, trial_signs)) <= best + 1e-9


def test_activation_matching_maximises_each_layers_correlation():
    a_model, X = _fitted("classifier", (5, 4), "tanh", 0)
    b_model, _ = _fitted("classifier", (5, 4), "tanh", 1)
    a, b = Network.from_estimator(a_model), Network.from_estimator(b_model)
    perms, signs = activation_matching(a, b, X)
    from sklandscape.model.network import hidden_before

    for k, size in enumerate((5, 4)):
        ha, hb = hidden_before(a, X, k + 2), hidden_before(b, X, k + 2)
        corr = np.corrcoef(ha.T, hb.T)[:size, size:]
        score = (signs[k] * corr[np.arange(size), perms[k]]).sum()
        # brute force over signed permutations: a flipped tanh unit's correlation negates
        for candidate in itertools.permutations(range(size)):
            for flips in itertools.product([-1.0, 1.0], repeat=size):
                assert (np.array(flips) * corr[np.arange(size), list(candidate)]).sum() \
                    <= score + 1e-12


def test_bad_inputs_are_refused_by_name():
    a, X = _fitted("regressor", (4,), "tanh")
    b, _ = _fitted("regressor", (5,), "tanh")
    with pytest.raises(ValueError, match="layer_sizes"):
        sl.align(a, b)
    with pytest.raises(ValueError, match="method must be one of"):
        sl.align(a, a, method="sinkhorn")
    with pytest.raises(ValueError, match="activation matching needs data"):
        sl.align(a, a, method="activation")
    with pytest.raises(ValueError, match="not a permutation"):
        permuted(Network.from_estimator(a), [np.array([0, 0, 1, 2])])
    c, _ = _fitted("classifier", (4,), "tanh")
    with pytest.raises(ValueError, match="differs from the reference"):
        sl.align(a, c)
    with pytest.raises(ValueError, match="not fitted"):
        sl.align(a, MLPRegressor(hidden_layer_sizes=(4,)))
