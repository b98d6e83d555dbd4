"""A trained MLP as plain arrays: named flat weights, the batched forward pass, the loss.

Everything downstream of training works from this representation, never from the
sklearn object: the weights file alone defines the network.

A regressor (identity output) is scored by the mean squared error. A classifier
(MLPClassifier: logistic output for two classes, softmax for more) is scored by the mean
log-loss of its probabilities, as sklearn.metrics.log_loss computes it from predict_proba;
its targets are class indices 0..K-1 (the position of each label in `classes_`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

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


def _softmax(z: np.ndarray) -> np.ndarray:
    # As sklearn's: shift by the row maximum, exponentiate, normalise over the classes.
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# One table, as in sklearn.neural_network._base.ACTIVATIONS (softmax is an output's only).
ACTIVATIONS = {
    "identity": _identity,
    "logistic": _logistic,
    "tanh": np.tanh,
    "relu": _relu,
}
OUT_ACTIVATIONS = {**ACTIVATIONS, "softmax": _softmax}


def activate_in_place(name: str, z: np.ndarray) -> np.ndarray:
    """ACTIVATIONS[name](z), written into z where numpy allows (no fresh array per call);
    the same numbers as ACTIVATIONS[name]."""
    if name == "tanh":
        return np.tanh(z, out=z)
    if name == "relu":
        return np.maximum(z, 0.0, out=z)
    return ACTIVATIONS[name](z)
# Output activations of a classifier, whose loss is the log-loss of its probabilities.
CLASSIFIER_OUTPUTS = ("logistic", "softmax")

_NAME = re.compile(r"^(?P<kind>[Wb])(?P<layer>\d+)\[(?P<idx>\d+(?:,\d+)?)\]$")


@dataclass(frozen=True)
class InputScaler:
    """scikit-learn's StandardScaler ((x - mean) / scale) or MinMaxScaler (x * scale + min),
    applied with the same operations, so the scaled inputs equal sklearn's bit for bit."""

    kind: str  # "standard" or "minmax"
    first: tuple  # standard: mean_ (None: with_mean=False); minmax: scale_
    second: tuple  # standard: scale_ (None: with_std=False); minmax: min_

    KINDS = ("standard", "minmax")

    def __post_init__(self):
        if self.kind not in self.KINDS:
            raise ValueError(f"unknown scaler {self.kind!r}; expected one of {self.KINDS}")

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.array(X, dtype=np.float64, copy=True)
        first = None if self.first is None else np.asarray(self.first, dtype=np.float64)
        second = None if self.second is None else np.asarray(self.second, dtype=np.float64)
        if self.kind == "standard":
            if first is not None:
                X -= first
            if second is not None:
                X /= second
        else:
            X *= first
            X += second
        return X

    def input_derivative(self) -> np.ndarray:
        """d(scaled x) / dx per feature: the chain rule for gradients in the inputs' units."""
        if self.kind == "standard":
            return 1.0 / np.asarray(self.second if self.second is not None else 1.0, float)
        return np.asarray(self.first, dtype=np.float64)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "first": _plain(self.first), "second": _plain(self.second)}

    @classmethod
    def from_dict(cls, value: dict | None) -> InputScaler | None:
        if value is None:
            return None
        return cls(value["kind"], _tuple(value["first"]), _tuple(value["second"]))

    @classmethod
    def from_sklearn(cls, scaler) -> InputScaler:
        name = type(scaler).__name__
        if name == "StandardScaler":
            return cls("standard", _tuple(scaler.mean_), _tuple(scaler.scale_))
        if name == "MinMaxScaler":
            return cls("minmax", _tuple(scaler.scale_), _tuple(scaler.min_))
        raise ValueError(f"a {name} before the MLP: sklandscape follows StandardScaler and "
                         "MinMaxScaler only")


def _tuple(values):
    return None if values is None else tuple(float(v) for v in np.ravel(values))


def _plain(values):
    return None if values is None else list(values)


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
    # A classifier's labels, in the order of its outputs (sklearn's classes_): targets are
    # indices into it. None for a regressor (or where unknown).
    classes: tuple | None = None
    # The input scaling fitted with the network (a StandardScaler or MinMaxScaler before it in
    # a scikit-learn Pipeline): the network sees scale_inputs(X). Everything else (data,
    # grids, figures) stays in the inputs' own units.
    scaler: InputScaler | None = None
    # What `loss` is: "default" (the MSE, or a classifier's log-loss) or "sklearn", what
    # scikit-learn minimises: half the MSE (the log-loss as it is) plus the L2 penalty
    # 0.5 * alpha * (sum of squared coefs, intercepts excluded) / n_samples.
    objective: str = "default"
    alpha: float = 0.0

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {self.activation!r}; expected one of {sorted(ACTIVATIONS)}"
            )
        if self.out_activation not in OUT_ACTIVATIONS:
            raise ValueError(f"unknown out_activation {self.out_activation!r}; expected one of "
                             f"{sorted(OUT_ACTIVATIONS)}")
        flat = np.asarray(self.flat, dtype=np.float64)
        if flat.shape != (n_parameters(self.layer_sizes),):
            raise ValueError(
                f"{flat.size} parameter values given, but layer sizes {list(self.layer_sizes)} "
                f"need {n_parameters(self.layer_sizes)}"
            )
        object.__setattr__(self, "flat", flat)
        if self.objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {self.objective!r}; expected one of {OBJECTIVES}")
        if self.classes is not None:
            # Plain Python values (str, int, float): they go into JSON metadata as they are.
            object.__setattr__(self, "classes", tuple(np.asarray(self.classes).tolist()))
        object.__setattr__(self, "layer_sizes", tuple(int(s) for s in self.layer_sizes))

    @classmethod
    def from_estimator(cls, model) -> Network:
        """From a fitted MLPRegressor or MLPClassifier, or a Pipeline of a StandardScaler or
        MinMaxScaler and one of them."""
        steps = getattr(model, "steps", None)
        if steps is not None:
            if len(steps) != 2:
                raise ValueError(f"a Pipeline of {len(steps)} steps: sklandscape follows a scaler "
                                 "and an MLP, or an MLP alone")
            net = cls.from_estimator(steps[-1][1])
            scaler = steps[0][1]
            return replace(net, scaler=None if scaler in (None, "passthrough")
                           else InputScaler.from_sklearn(scaler))
        sizes = [model.coefs_[0].shape[0]] + [c.shape[1] for c in model.coefs_]
        parts = []
        for coef, intercept in zip(model.coefs_, model.intercepts_):
            parts += [np.ravel(coef), np.ravel(intercept)]
        classes = getattr(model, "classes_", None)
        return cls(tuple(sizes), model.activation, model.out_activation_, np.concatenate(parts),
                   None if classes is None else tuple(classes))

    @property
    def is_classifier(self) -> bool:
        return self.out_activation in CLASSIFIER_OUTPUTS

    @property
    def loss_name(self) -> str:
        """What `loss` computes: "log-loss" for a classifier, "MSE" for a regressor, and
        sklearn's objective as "½MSE + L2" or "log-loss + L2"."""
        data = "log-loss" if self.is_classifier else "MSE"
        if self.objective != "sklearn":
            return data
        return ("log-loss" if self.is_classifier else "½MSE") + " + L2"

    def with_objective(self, objective: str | None, alpha: float = 0.0) -> Network:
        """The same network scored by another objective (see `objective`)."""
        return replace(self, objective=objective or "default", alpha=float(alpha))

    @property
    def coef_mask(self) -> np.ndarray:
        """True at the coefs (W…), False at the intercepts (b…): what sklearn's L2 penalises."""
        return np.array([name.startswith("W") for name in self.names])

    @property
    def n_classes(self) -> int:
        """Classes of a classifier (2 for one logistic output); 0 for a regressor."""
        if not self.is_classifier:
            return 0
        return 2 if self.out_activation == "logistic" else self.layer_sizes[-1]

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """The loss at the network's own weights: MSE, or log-loss for a classifier."""
        return float(loss(self, self.predict(X), y, self.flat))

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
        return self.with_flat(flat)

    def with_flat(self, flat: np.ndarray) -> Network:
        """The same network (sizes, activations, classes, scaler) with other weights."""
        return replace(self, flat=flat)

    def scale_inputs(self, X: np.ndarray) -> np.ndarray:
        """What the first layer sees: X through the fitted scaler (X itself without one)."""
        X = np.asarray(X, dtype=np.float64)
        return X if self.scaler is None else self.scaler.transform(X)

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
    """The position of a named parameter in the flat vector, by arithmetic: listing the
    names of a network of 85,000 weights to search them costs 15 ms a call."""
    sizes = list(layer_sizes)
    try:
        kind, layer, source, unit = parse_parameter_name(name)
    except ValueError:
        kind = None
    if kind is not None and 1 <= layer < len(sizes):
        n_in, n_out = sizes[layer - 1], sizes[layer]
        start = n_parameters(sizes[:layer])  # the layers below
        if kind == "weight" and 0 <= source < n_in and 0 <= unit < n_out:
            return start + source * n_out + unit
        if kind == "bias" and 0 <= unit < n_out:
            return start + n_in * n_out + unit
    names = parameter_names(sizes)
    shown = ", ".join(names) if len(names) <= 40 else ", ".join(names[:40]) + ", …"
    raise KeyError(
        f"network with layer sizes {sizes} has no weight {name!r}; valid names: {shown}"
    ) from None


def parameter_layer(name: str) -> int:
    return parse_parameter_name(name)[1]


def forward(net: Network, flat: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Network output for a batch of parameter vectors.

    flat: (…, P) parameter vectors; X: (n, n_features). Returns (…, n): one
    prediction per parameter vector and sample, like MLPRegressor.predict for each.
    """
    return forward_from(net, flat, net.scale_inputs(X), first_layer=1)


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
        out = OUT_ACTIVATIONS[net.out_activation](out) if last else activate(out)
    if out.shape[-1] == 1:
        out = out[..., 0]
    return out


def hidden_before(net: Network, X: np.ndarray, layer: int) -> np.ndarray:
    """Activations that feed layer `layer` (1-based) at the trained weights: (n, width)."""
    out = net.scale_inputs(X)
    activate = ACTIVATIONS[net.activation]
    for coef, intercept in net.layers()[: layer - 1]:
        out = activate(out @ coef + intercept)
    return out


def mse(prediction: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean squared error over the sample axis: the last one, or the last two for targets
    y (n, k) of a multi-output regressor (scikit-learn's mean over rows and outputs)."""
    axes = (-2, -1) if np.ndim(y) == 2 else -1
    with np.errstate(over="ignore", invalid="ignore"):
        return np.mean((prediction - y) ** 2, axis=axes)


# sklearn.metrics.log_loss clips probabilities to [eps, 1 - eps] with float64's eps.
PROBABILITY_EPS = float(np.finfo(np.float64).eps)


def true_class_probability(output: np.ndarray, y: np.ndarray, binary: bool) -> np.ndarray:
    """A classifier's probability of each sample's true class, (…, n), unclipped.

    output: (…, n) positive-class probabilities (`binary`: one logistic output) or (…, n, K)
    softmax probabilities; y: class indices (n,).
    """
    index = np.asarray(y).astype(np.int64)
    if binary:
        return np.where(index == 1, output, 1.0 - output)
    picked = np.broadcast_to(index[:, None], (*output.shape[:-1], 1))
    return np.take_along_axis(output, picked, axis=-1)[..., 0]


def log_loss(output: np.ndarray, y: np.ndarray, binary: bool) -> np.ndarray:
    """Mean log-loss over the samples, as sklearn.metrics.log_loss(y, predict_proba)."""
    p = true_class_probability(output, y, binary)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.mean(np.log(np.clip(p, PROBABILITY_EPS, 1.0 - PROBABILITY_EPS)), axis=-1)


def predicted_class(output: np.ndarray, binary: bool) -> np.ndarray:
    """Class indices a classifier predicts (as sklearn's predict, ties to the lower class)."""
    if binary:
        return (output > 0.5).astype(np.int64)
    return np.argmax(output, axis=-1)


def accuracy(net: Network, output: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Share of samples whose predicted class is the true one, over the sample axis."""
    hits = predicted_class(output, net.out_activation == "logistic") == np.asarray(y)
    return np.mean(hits, axis=-1)


OBJECTIVES = ("default", "sklearn")


def loss(net: Network, output: np.ndarray, y: np.ndarray, flat: np.ndarray | None = None
         ) -> np.ndarray:
    """The network's loss over the sample axis: log-loss for a classifier, else MSE; with
    objective "sklearn", half the MSE plus the L2 penalty of `flat` (…, P) (the weights the
    output was computed with: needed then)."""
    if net.is_classifier:
        data = log_loss(output, y, net.out_activation == "logistic")
    else:
        data = mse(output, y)
    return objective_loss(net, data, net.flat if flat is None else flat, len(y))


def objective_loss(net: Network, data: np.ndarray, flat: np.ndarray, n_samples: int
                   ) -> np.ndarray:
    """A data loss (MSE or log-loss, per parameter vector of `flat` (…, P)) as the network's
    objective scores it: as it is, or for "sklearn" half a regressor's MSE (a classifier's
    log-loss whole) plus the L2 penalty of those weights."""
    if net.objective != "sklearn":
        return data
    if not net.is_classifier:
        data = 0.5 * data
    return data + l2_penalty(net, flat, n_samples)


def l2_penalty(net: Network, flat: np.ndarray, n_samples: int) -> np.ndarray:
    """sklearn's penalty 0.5 * alpha * sum(coefs^2) / n_samples, per parameter vector."""
    if not net.alpha:
        return np.zeros(np.shape(flat)[:-1])
    coefs = np.asarray(flat)[..., net.coef_mask]
    return 0.5 * net.alpha * np.sum(coefs * coefs, axis=-1) / n_samples


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


def network_from_frame(frame, layer_sizes, activation, out_activation, source="weights",
                       classes=None, scaler: dict | None = None) -> Network:
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
    return Network(tuple(layer_sizes), activation, out_activation,
                   frame["value"].to_numpy(np.float64), classes, InputScaler.from_dict(scaler))


# A tanh or logistic unit with |pre-activation| beyond this is saturated: its slope is under
# 1% of its largest (tanh: 1 - tanh(3)^2 = 0.0099; logistic: s'(6) / s'(0) = 0.0099).
SATURATION = {"tanh": 3.0, "logistic": 6.0}


def saturated_share(net: Network, X: np.ndarray) -> float:
    """The share of hidden units' pre-activations on X that sit where the activation is
    flat (tanh, logistic) or, for relu, zero: a landscape through such units says little."""
    out = net.scale_inputs(X)
    flat = []
    for coef, intercept in net.layers()[:-1]:
        z = out @ coef + intercept
        if net.activation in SATURATION:
            flat.append(np.abs(z) > SATURATION[net.activation])
        elif net.activation == "relu":
            flat.append(z <= 0)
        out = ACTIVATIONS[net.activation](z)
    if not flat:
        return 0.0
    return float(np.mean(np.concatenate([f.ravel() for f in flat])))
