import numpy as np
import pytest

from conftest import fitted_mlp
from sklandscape import io
from sklandscape.model.network import (
    Network,
    forward,
    parameter_index,
    parameter_names,
    parse_parameter_name,
)

ARCHITECTURES = [((2,), 1), ((3,), 2), ((10, 10), 2), ((4, 3, 5), 3)]


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("hidden,n_features", ARCHITECTURES)
def test_forward_equals_predict(activation, hidden, n_features):
    model, X, _ = fitted_mlp(hidden, activation, n_features=n_features)
    net = Network.from_estimator(model)
    np.testing.assert_allclose(net.predict(X), model.predict(X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu"])
def test_batched_forward_equals_predict_per_parameter_vector(activation):
    model, X, _ = fitted_mlp((3, 2), activation, n_features=2)
    net = Network.from_estimator(model)
    rng = np.random.default_rng(1)
    batch = net.flat + 0.5 * rng.standard_normal((5, len(net.flat)))
    out = forward(net, batch, X)
    assert out.shape == (5, len(X))
    for k in range(5):
        coefs, intercepts = net.with_values(dict(zip(net.names, batch[k]))).to_estimator_arrays()
        model.coefs_, model.intercepts_ = coefs, intercepts
        np.testing.assert_allclose(out[k], model.predict(X), rtol=1e-12, atol=1e-12)


def test_n1_names_follow_sklearn_arrays(n1_model):
    model, _, _ = n1_model
    net = Network.from_estimator(model)
    assert net.names == ["W1[0,0]", "W1[0,1]", "b1[0]", "b1[1]", "W2[0,0]", "W2[1,0]", "b2[0]"]
    assert net.value("W1[0,1]") == model.coefs_[0][0, 1]
    assert net.value("b1[1]") == model.intercepts_[0][1]
    assert net.value("W2[1,0]") == model.coefs_[1][1, 0]
    assert net.value("b2[0]") == model.intercepts_[1][0]


def test_every_name_addresses_its_sklearn_entry():
    model, _, _ = fitted_mlp((4, 3), "tanh", n_features=2)
    net = Network.from_estimator(model)
    for name in net.names:
        kind, layer, i, j = parse_parameter_name(name)
        expected = model.coefs_[layer - 1][i, j] if kind == "weight" else model.intercepts_[layer - 1][j]
        assert net.value(name) == expected


def test_unknown_weight_name_lists_valid_names():
    with pytest.raises(KeyError, match=r"no weight 'W3\[0,0\]'.*valid names: W1\[0,0\], W1\[0,1\]"):
        parameter_index([1, 2, 1], "W3[0,0]")


def test_malformed_name_is_rejected():
    with pytest.raises(ValueError, match="not a parameter name"):
        parse_parameter_name("W1[0]")


def test_weights_file_alone_defines_the_network(tmp_path):
    model, X, _ = fitted_mlp((5, 4), "logistic", n_features=2)
    net = Network.from_estimator(model)
    path = tmp_path / "weights.parquet"
    io.write_weights(net, path)
    frame, metadata = io.read_table(path)
    assert list(frame.columns) == ["name", "layer", "kind", "i", "j", "value"]
    assert metadata["activation"] == "logistic"
    assert metadata["out_activation"] == "identity"
    assert metadata["layer_sizes"] == [2, 5, 4, 1]
    assert frame["i"].isna().tolist() == [k == "bias" for k in frame["kind"]]
    rebuilt = io.read_weights(path)
    np.testing.assert_array_equal(rebuilt.flat, net.flat)
    np.testing.assert_allclose(rebuilt.predict(X), model.predict(X), rtol=1e-12, atol=1e-12)
    assert len(parameter_names(rebuilt.layer_sizes)) == len(frame)
