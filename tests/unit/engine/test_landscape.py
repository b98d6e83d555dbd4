import numpy as np
import pytest

from conftest import fitted_mlp
from sklandscape.data.datasets import waves_with_spike
from sklandscape.engine.landscape import (
    axis_values,
    grid_frame,
    input_grid,
    input_landscape,
    select_samples,
    summarize,
    weights_grid,
    weights_slice,
)
from sklandscape.model.network import Network

PAIRS = [
    ("W1[0,0]", "W2[0,0]"),  # first and last layer
    ("W1[0,0]", "W1[0,1]"),  # both in the first layer
    ("b1[0]", "b2[0]"),  # biases
    ("W2[1,0]", "b2[0]"),  # both in the output layer
]


def predict_mse(model, net, X, y, updates):
    """The reference: set the two weights on the sklearn model and call predict."""
    model.coefs_, model.intercepts_ = net.with_values(updates).to_estimator_arrays()
    return float(np.mean((model.predict(X) - y) ** 2))


@pytest.mark.parametrize("axes", PAIRS)
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_grid_points_equal_predict_with_weights_set(axes, activation, n1_model):
    model, X, y = fitted_mlp((2,), activation, n=120)
    net = Network.from_estimator(model)
    grid = weights_grid(net, axes, span=1.5, resolution=9)
    loss = weights_slice(net, X, y, grid)
    rng = np.random.default_rng(0)
    for i, j in rng.integers(0, 9, size=(12, 2)):
        expected = predict_mse(model, net, X, y, {axes[0]: grid.first[i], axes[1]: grid.second[j]})
        assert loss[i, j] == pytest.approx(expected, rel=1e-10, abs=1e-14)


def test_centre_equals_model_mse(n1_model):
    model, X, y = n1_model
    net = Network.from_estimator(model)
    expected = float(np.mean((model.predict(X) - y) ** 2))
    grid = weights_grid(net, ("W1[0,0]", "W2[0,0]"), span=3.0, resolution=101)
    loss = weights_slice(net, X, y, grid)
    assert grid.first[50] == net.value("W1[0,0]") and grid.second[50] == net.value("W2[0,0]")
    assert loss[50, 50] == pytest.approx(expected, rel=1e-9)


def test_one_data_point_slice(n1_model):
    model, X, y = n1_model
    net = Network.from_estimator(model)
    rows = select_samples(len(y), [7])
    grid = weights_grid(net, ("W1[0,1]", "b1[1]"), span=2.0, resolution=5)
    loss = weights_slice(net, X[rows], y[rows], grid)
    expected = predict_mse(model, net, X[rows], y[rows], {"W1[0,1]": grid.first[1], "b1[1]": grid.second[4]})
    assert loss[1, 4] == pytest.approx(expected, rel=1e-10)


def test_deeper_network_all_layers():
    model, X, y = fitted_mlp((4, 3), "tanh", n_features=2)
    net = Network.from_estimator(model)
    for axes in [("W1[1,2]", "W3[2,0]"), ("W2[3,1]", "b2[2]"), ("W2[0,0]", "W2[3,2]")]:
        grid = weights_grid(net, axes, span=0.7, resolution=4)
        loss = weights_slice(net, X, y, grid)
        expected = predict_mse(model, net, X, y, {axes[0]: grid.first[3], axes[1]: grid.second[0]})
        assert loss[3, 0] == pytest.approx(expected, rel=1e-10)


def test_chunked_evaluation_is_identical_to_one_chunk(n1_model, monkeypatch):
    import sklandscape.engine.landscape as landscape

    model, X, y = n1_model
    net = Network.from_estimator(model)
    grid = weights_grid(net, ("W1[0,0]", "b2[0]"), span=1.0, resolution=31)
    whole = weights_slice(net, X, y, grid)
    monkeypatch.setattr(landscape, "CHUNK_BYTES", 3 * 8 * len(y) * 2 * 7)  # 7 points a chunk
    chunked = weights_slice(net, X, y, grid)
    np.testing.assert_array_equal(whole, chunked)


def test_input_landscape_equals_predict_against_target():
    model, X, y = fitted_mlp((10, 10), "tanh", n_features=2, n=300)
    net = Network.from_estimator(model)
    grid = input_grid([(-3.5, 3.5), (-3.5, 3.5)], 21)
    table = input_landscape(net, grid, waves_with_spike)
    points = table[["x0", "x1"]].to_numpy()
    np.testing.assert_allclose(table["prediction"], model.predict(points), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(table["target"], waves_with_spike(points))
    np.testing.assert_allclose(table["loss"], (model.predict(points) - waves_with_spike(points)) ** 2,
                               rtol=1e-10, atol=1e-14)
    assert table["x0"].iloc[0] == -3.5 and table["x1"].iloc[1] == pytest.approx(-3.15)


def test_input_landscape_needs_two_inputs(n1_model):
    net = Network.from_estimator(n1_model[0])
    with pytest.raises(ValueError, match="network with 1 inputs needs the two features"):
        input_landscape(net, input_grid([(0, 1), (0, 1)], 3), waves_with_spike)


def test_axis_values_contain_exact_centre():
    values = axis_values(0.1, 3.0, 101)
    assert values[50] == 0.1 and values[0] == pytest.approx(-2.9) and values[-1] == pytest.approx(3.1)


def test_sample_index_out_of_range_is_named():
    with pytest.raises(IndexError, match="sample index 200 is out of range: the dataset has 200 rows"):
        select_samples(200, [3, 200])


def test_summary_finds_minimum_of_known_quadratic():
    net = Network((1, 1, 1), "identity", "identity", np.zeros(4))
    grid = weights_grid(net, ("W1[0,0]", "b1[0]"), span=2.0, resolution=41)
    a, b = np.meshgrid(grid.first, grid.second, indexing="ij")
    loss = (a - 0.5) ** 2 + 2 * (b + 1.0) ** 2
    stats = summarize(grid_frame(grid, loss), grid.names)
    assert stats["argmin_W1[0,0]"] == pytest.approx(0.5)
    assert stats["argmin_b1[0]"] == pytest.approx(-1.0)
    assert stats["loss_min"] == pytest.approx(0.0, abs=1e-12)
    assert stats["loss_max"] == pytest.approx(2.5**2 + 2 * 3.0**2)


def test_streamed_summary_equals_argmin_over_the_whole_table():
    from sklandscape.engine.summary import RunningSummary

    rng = np.random.default_rng(3)
    loss = rng.integers(0, 5, size=200).astype(float)  # many ties for min and max
    loss[[0, 7, 150]] = [np.nan, np.inf, -np.inf]
    a, b = rng.standard_normal(200), np.arange(200.0)
    finite = np.isfinite(loss)
    at_min = int(np.argmin(np.where(finite, loss, np.inf)))
    at_max = int(np.argmax(np.where(finite, loss, -np.inf)))
    for cuts in ([0, 200], [0, 1, 2, 99, 100, 200], list(range(0, 201, 13)) + [200]):
        summary = RunningSummary(("a", "b"))
        for lo, hi in zip(cuts[:-1], cuts[1:]):
            summary.update({"a": a[lo:hi], "b": b[lo:hi], "loss": loss[lo:hi]})
        stats = summary.result()
        assert stats["n_points"] == 200 and stats["n_nonfinite"] == 3
        assert (stats["loss_min"], stats["argmin_b"]) == (loss[at_min], float(at_min))
        assert (stats["loss_max"], stats["argmax_b"]) == (loss[at_max], float(at_max))
        assert stats["argmin_a"] == a[at_min]
