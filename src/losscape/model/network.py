"""A trained MLP as plain arrays: named flat weights, the batched forward pass, the loss.

Everything downstream of training works from this representation, never from the
sklearn object: the weights file alone defines the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np


def _identity(z: np.ndarray) -> np.ndarray:
    return z


def _logistic(z: np.ndarray) -> np.ndarray:
    # Same formula as sklearn's (scipy.special.expit), written in numpy so that
    # this module does not pull scipy into every job; errstate keeps saturation quiet.
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


# One table, as in sklearn.neural_network._base.ACTIVATIONS.
ACTIVATIONS = {
    "identity": _identity,
    "logistic": _logistic,
    "tanh": np.tanh,
    "relu": _relu,
}

_NAME = re.compile(r"^(?P<kind>[Wb])(?P<layer>\d+)\[(?P<idx>\d+(?:,\d+)?)\]$")


@dataclass(frozen=True)
class Network:
    """An MLP: layer sizes, activations and one flat, named parameter vector.

    The flat order is, layer by layer, `coefs_[l]` row-major then `intercepts_[l]`,
    which gives N1 the order W1[0,0], W1[0,1], b1[0], b1[1], W2[0,0], W2[1,0], b2[0].
    """

    layer_sizes: tuple[int, ...]
    activation: str
    out_activation: str
    flat: np.ndarray = field(repr=False)

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {self.activation!r}; expected one of {sorted(ACTIVATIONS)}"
            )
        if self.out_activation not in ACTIVATIONS:
            raise ValueError(f"unknown out_activation {self.out_activation!r}")
        flat = np.asarray(self.flat, dtype=np.float64)
        if flat.shape != (n_parameters(self.layer_sizes),):
            raise ValueError(
                f"{flat.size} parameter values given, but layer sizes {list(self.layer_sizes)} "
                f"need {n_parameters(self.layer_sizes)}"
            )
        object.__setattr__(self, "flat", flat)
        object.__setattr__(self, "layer_sizes", tuple(int(s) for s in self.layer_sizes))

    @classmethod
    def from_estimator(cls, model) -> Network:
        sizes = [model.coefs_[0].shape[0]] + [c.shape[1] for c in model.coefs_]
        parts = []
        for coef, intercept in zip(model.coefs_, model.intercepts_):
            parts += [np.ravel(coef), np.ravel(intercept)]
        return cls(tuple(sizes), model.activation, model.out_activation_, np.concatenate(parts))

    @property
    def names(self) -> list[str]:
        return parameter_names(self.layer_sizes)

    @property
    def n_layers(self) -> int:
        return len(self.layer_sizes) - 1

    def index(self, name: str) -> int:
        return parameter_index(self.layer_sizes, name)

    def value(self, name: str) -> float:
        return float(self.flat[self.index(name)])

    def with_values(self, updates: dict[str, float]) -> Network:
        flat = self.flat.copy()
        for name, value in updates.items():
            flat[self.index(name)] = value
        return Network(self.layer_sizes, self.activation, self.out_activation, flat)

    def layers(self, flat: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """(coef, intercept) per layer as views into `flat` (…, P), keeping leading batch axes."""
        flat = self.flat if flat is None else flat
        batch = flat.shape[:-1]
        out, start = [], 0
        for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            coef = flat[..., start : start + n_in * n_out].reshape(*batch, n_in, n_out)
            start += n_in * n_out
            out.append((coef, flat[..., start : start + n_out]))
            start += n_out
        return out

    def to_estimator_arrays(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Copies shaped like sklearn's coefs_ and intercepts_."""
        pairs = self.layers()
        return [c.copy() for c, _ in pairs], [b.copy() for _, b in pairs]

    def predict(self, X: np.ndarray) -> np.ndarray:
        return forward(self, self.flat, X)


def n_parameters(layer_sizes) -> int:
    sizes = list(layer_sizes)
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def parameter_names(layer_sizes) -> list[str]:
    sizes = list(layer_sizes)
    names = []
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        names += [f"W{layer}[{i},{j}]" for i in range(n_in) for j in range(n_out)]
        names += [f"b{layer}[{j}]" for j in range(n_out)]
    return names


def parse_parameter_name(name: str) -> tuple[str, int, int | None, int]:
    """'W2[1,0]' -> ('weight', 2, 1, 0); 'b1[0]' -> ('bias', 1, None, 0)."""
    match = _NAME.match(name.replace(" ", ""))
    if not match:
        raise ValueError(f"{name!r} is not a parameter name like 'W1[0,1]' or 'b2[0]'")
    idx = [int(v) for v in match["idx"].split(",")]
    if match["kind"] == "W" and len(idx) == 2:
        return "weight", int(match["layer"]), idx[0], idx[1]
    if match["kind"] == "b" and len(idx) == 1:
        return "bias", int(match["layer"]), None, idx[0]
    raise ValueError(f"{name!r} is not a parameter name like 'W1[0,1]' or 'b2[0]'")


def parameter_index(layer_sizes, name: str) -> int:
    names = parameter_names(layer_sizes)
    try:
        return names.index(name.replace(" ", ""))
    except ValueError:
        shown = ", ".join(names) if len(names) <= 40 else ", ".join(names[:40]) + ", …"
        raise KeyError(
            f"network with layer sizes {list(layer_sizes)} has no weight {name!r}; "
            f"valid names: {shown}"
        ) from None


def parameter_layer(name: str) -> int:
    return parse_parameter_name(name)[1]


def forward(net: Network, flat: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Network output for a batch of parameter vectors.

    flat: (…, P) parameter vectors; X: (n, n_features). Returns (…, n): one
    prediction per parameter vector and sample, like MLPRegressor.predict for each.
    """
    X = np.asarray(X, dtype=np.float64)
    return forward_from(net, flat, X, first_layer=1)


def forward_from(net: Network, flat: np.ndarray, hidden: np.ndarray, first_layer: int) -> np.ndarray:
    """Continue a forward pass at layer `first_layer` (1-based) from its input `hidden`.

    `hidden` is (n, width) or batched (…, n, width). Layers before `first_layer` are
    not touched, so a caller whose moving weights sit deep in the network pays only
    for the layers at and above them.
    """
    activate = ACTIVATIONS[net.activation]
    layers = net.layers(flat)
    out = hidden
    for layer in range(first_layer - 1, net.n_layers):
        coef, intercept = layers[layer]
        # matmul broadcasts (…, n, in) @ (…, in, out); intercept gains the sample axis.
        out = out @ coef + intercept[..., None, :]
        last = layer == net.n_layers - 1
        out = ACTIVATIONS[net.out_activation](out) if last else activate(out)
    if out.shape[-1] == 1:
        out = out[..., 0]
    return out


def hidden_before(net: Network, X: np.ndarray, layer: int) -> np.ndarray:
    """Activations that feed layer `layer` (1-based) at the trained weights: (n, width)."""
    out = np.asarray(X, dtype=np.float64)
    activate = ACTIVATIONS[net.activation]
    for coef, intercept in net.layers()[: layer - 1]:
        out = activate(out @ coef + intercept)
    return out


def mse(prediction: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean squared error over the last (sample) axis."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.mean((prediction - y) ** 2, axis=-1)


def weights_frame(net: Network):
    """One row per scalar parameter: name, layer, kind, i, j, value."""
    import pandas as pd

    rows = [parse_parameter_name(name) for name in net.names]
    return pd.DataFrame(
        {
            "name": net.names,
            "layer": np.array([r[1] for r in rows], dtype=np.int64),
            "kind": [r[0] for r in rows],
            "i": pd.array([r[2] for r in rows], dtype="Int64"),
            "j": np.array([r[3] for r in rows], dtype=np.int64),
            "value": net.flat,
        }
    )


def network_from_frame(frame, layer_sizes, activation, out_activation, source="weights") -> Network:
    """Rebuild a Network from a weights table, checking that its names are complete."""
    expected = parameter_names(layer_sizes)
    names = list(frame["name"])
    if names != expected:
        missing = sorted(set(expected) - set(names))
        extra = sorted(set(names) - set(expected))
        raise ValueError(
            f"{source}: weight rows do not match layer sizes {list(layer_sizes)}"
            f" (missing {missing[:10]}, unexpected {extra[:10]})"
        )
    return Network(tuple(layer_sizes), activation, out_activation, frame["value"].to_numpy(np.float64))
