"""The structured paths against the plain batched pass and against MLPRegressor.predict."""

import itertools
from collections import Counter

import numpy as np
import pytest

from conftest import fitted_mlp
from sklandscape.engine import expanded, slicing, unitwise
from sklandscape.engine.landscape import tile_rows, weights_grid, weights_slice
from sklandscape.engine.structured import plan_pair, weights_slice_rows, weights_slice_structured
from sklandscape.model.network import Network

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]

# A 2-3-4-1 network: one pair per class and orientation (the first name is the slow axis).
DEEP_PAIRS = {
    "output_quadratic": [("W3[1,0]", "b3[0]"), ("W3[2,0]", "W2[1,2]"), ("b2[2]", "W3[2,0]"),
                         ("W1[0,1]", "W3[3,0]"), ("b3[0]", "b1[2]"), ("W2[0,0]", "W3[1,0]")],
    "separable": [("W2[0,1]", "W2[2,3]"), ("b2[3]", "W2[1,0]"), ("b2[0]", "b2[1]")],
    "one_unit": [("W2[0,2]", "W2[1,2]"), ("b2[1]", "W2[2,1]"),  # two inputs of one unit
                 ("W1[1,0]", "W2[0,3]"), ("W2[2,1]", "b1[2]"),  # deeper weight x unit input
                 ("W1[0,1]", "b2[0]"), ("b2[3]", "b1[0]")],  # deeper weight x unit bias
    "rank_update": [("W1[0,0]", "W1[1,2]"), ("b1[1]", "W1[0,1]"),  # two units of layer 1
                    ("W1[1,2]", "b1[2]"), ("W1[0,1]", "W1[1,1]")],  # one unit of layer 1
}


def assert_matches_plain(net, X, y, axes, span=1.5, resolution=(9, 8)):
    grid = weights_grid(net, axes, span=span, resolution=resolution)
    expected = weights_slice(net, X, y, grid)
    got = weights_slice_structured(net, X, y, grid)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=0)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_n1_pair_in_both_orientations_equals_the_plain_pass(activation):
    model, X, y = fitted_mlp((2,), activation, n_features=1, n=60)
    net = Network.from_estimator(model)
    for axes in itertools.permutations(net.names, 2):
        assert_matches_plain(net, X, y, axes)
    # every N1 pair is structured: none falls back to the plain pass
    kinds = Counter(plan_pair(net, axes).kind for axes in itertools.combinations(net.names, 2))
    assert kinds == {"output_quadratic": 15, "separable": 4, "one_unit": 2}
    assert plan_pair(net, ("W1[0,0]", "W2[0,0]")).kind == "output_quadratic"


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", sorted(DEEP_PAIRS))
def test_deeper_network_pairs_of_every_class_equal_the_plain_pass(kind, activation):
    model, X, y = fitted_mlp((3, 4), activation, n_features=2, n=50)
    net = Network.from_estimator(model)
    for axes in DEEP_PAIRS[kind]:
        assert plan_pair(net, axes).kind == kind
        assert_matches_plain(net, X, y, axes, span=(0.8, 2.5), resolution=(7, 10))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_rank_update_across_layers_below_the_last_hidden_one(activation):
    model, X, y = fitted_mlp((3, 3, 2), activation, n_features=2, n=40)
    net = Network.from_estimator(model)
    for axes in [("W1[0,1]", "W2[1,2]"), ("b2[0]", "b1[1]"), ("W1[1,0]", "W2[0,1]"),
                 ("W2[0,1]", "W2[2,1]"), ("b1[2]", "W2[2,0]")]:
        assert plan_pair(net, axes).kind == "rank_update"
        assert_matches_plain(net, X, y, axes, span=(1.2, 0.6), resolution=(6, 9))


def predict_mse(model, net, X, y, updates):
    model.coefs_, model.intercepts_ = net.with_values(updates).to_estimator_arrays()
    return float(np.mean((model.predict(X) - y) ** 2))


@pytest.mark.parametrize("seed", range(8))
def test_random_networks_and_pairs_equal_predict_with_the_weights_set(seed):
    rng = np.random.default_rng(seed)
    hidden = tuple(int(w) for w in rng.integers(1, 5, size=rng.integers(1, 4)))
    activation = ACTIVATIONS[seed % 4]
    model, X, y = fitted_mlp(hidden, activation, n_features=int(rng.integers(1, 4)), n=40, seed=seed)
    net = Network.from_estimator(model)
    for _ in range(4):
        axes = tuple(rng.choice(net.names, size=2, replace=False))
        grid = weights_grid(net, axes, span=float(rng.uniform(0.2, 3.0)), resolution=11)
        loss = weights_slice_structured(net, X, y, grid)
        for i, j in rng.integers(0, 11, size=(5, 2)):
            expected = predict_mse(model, net, X, y, {axes[0]: grid.first[i], axes[1]: grid.second[j]})
            assert loss[i, j] == pytest.approx(expected, rel=1e-10, abs=1e-14), (hidden, axes)


def test_cells_lost_to_cancellation_are_recomputed(monkeypatch):
    # One sample, the output bias moving: e = A_p + s. With W2[0,0] moved by 20, A is
    # large; an s that passes 1e-4 from -A gives a loss of 1e-8 out of terms of ~A^2,
    # where the expanded form A^2 + 2As + s^2 keeps only ~7 digits.
    model, X, y = fitted_mlp((2,), "tanh", n_features=1, n=30)
    net = Network.from_estimator(model)
    X, y = X[:1], y[:1]
    w2, b2 = net.value("W2[0,0]") + 20.0, net.value("b2[0]")
    far = float(net.with_values({"W2[0,0]": w2}).predict(X)[0] - y[0])
    assert abs(far) > 1.0
    grid = weights_grid(net, ("W2[0,0]", "b2[0]"), span=1.0, resolution=3)
    grid = type(grid)(grid.names, np.array([w2 - 1.0, w2]), b2 + np.array([-far + 1e-4, 0.3, 0.0]))
    expected = np.array([[predict_mse(model, net, X, y, {"W2[0,0]": a, "b2[0]": b})
                          for b in grid.second] for a in grid.first])
    assert expected[1, 0] < 1e-7
    np.testing.assert_allclose(weights_slice_structured(net, X, y, grid), expected, rtol=1e-10)
    # without the recomputation the same cell is off by far more than the tolerance
    monkeypatch.setattr(slicing, "CANCELLATION", np.inf)
    unguarded = weights_slice_structured(net, X, y, grid)
    assert abs(unguarded[1, 0] - expected[1, 0]) > 1e-9 * expected[1, 0]


def test_pre_activations_beyond_the_exp_range_take_the_direct_form():
    model, X, y = fitted_mlp((2,), "tanh", n_features=1, n=40)
    net = Network.from_estimator(model)
    big = net.with_values({"W1[0,0]": 200.0, "b1[0]": -30.0})
    axes = ("W1[0,0]", "b1[0]")
    grid = weights_grid(big, axes, span=1.0, resolution=5)
    path = unitwise.OneUnit(big, X, y, grid, plan_pair(big, axes))
    assert path.factors(0)[0] == "direct"
    assert_matches_plain(big, X, y, axes, span=1.0, resolution=5)
    grid = weights_grid(net, axes, span=1.0, resolution=5)
    small = unitwise.OneUnit(net, X, y, grid, plan_pair(net, axes))
    assert small.factors(0)[0] == "exp"


def all_pairs_by_kind(net):
    found = {}
    for axes in itertools.permutations(net.names, 2):
        found.setdefault(plan_pair(net, axes).kind, []).append(axes)
    return found


@pytest.mark.parametrize("sample_bytes", [None, 8 * 11 * 30 * 7])
def test_any_band_of_rows_gives_the_same_bits_as_the_whole_grid(monkeypatch, sample_bytes):
    if sample_bytes:  # samples in several blocks: cells accumulate block by block
        monkeypatch.setattr(slicing, "WORK_BYTES", sample_bytes)
    model, X, y = fitted_mlp((3, 4), "tanh", n_features=2, n=50)
    net = Network.from_estimator(model)
    rng = np.random.default_rng(1)
    for kind, pairs in sorted(all_pairs_by_kind(net).items()):
        for index in rng.choice(len(pairs), size=3, replace=False):
            axes = pairs[index]
            grid = weights_grid(net, axes, span=1.0, resolution=(19, 11))
            whole = weights_slice_structured(net, X, y, grid)
            for tiles in (2, 3, 7):
                parts = [values for t in range(tiles)
                         for _, values in weights_slice_rows(net, X, y, grid, tile_rows(19, t, tiles))]
                np.testing.assert_array_equal(np.concatenate(parts), whole, err_msg=f"{kind} {axes}")


def test_several_sample_blocks_agree_with_one(monkeypatch):
    model, X, y = fitted_mlp((3, 4), "logistic", n_features=2, n=50)
    net = Network.from_estimator(model)
    pairs = [p for pairs in DEEP_PAIRS.values() for p in pairs]
    single = [weights_slice_structured(net, X, y, weights_grid(net, a, 1.0, 9)) for a in pairs]
    monkeypatch.setattr(slicing, "WORK_BYTES", 8 * 9 * 30 * 6)
    path = expanded.Separable(net, X, y, weights_grid(net, pairs[6], 1.0, 9), plan_pair(net, pairs[6]))
    assert len(path.sample_blocks) > 3
    for axes, expected in zip(pairs, single):
        got = weights_slice_structured(net, X, y, weights_grid(net, axes, 1.0, 9))
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=str(axes))


def test_a_non_linear_output_takes_the_output_update():
    model, X, y = fitted_mlp((2,), "tanh", n_features=1, n=30)
    net = Network.from_estimator(model)
    squashed = Network(net.layer_sizes, net.activation, "logistic", net.flat)
    assert plan_pair(squashed, ("W1[0,0]", "W2[0,0]")).kind == "output_update"
    assert plan_pair(net, ("W1[0,0]", "W2[0,0]")).kind == "output_quadratic"
