"""Exact derivatives of a Network: backprop for the MSE gradient, its R-operator for
Hessian-vector products, and the gradient of the output with respect to the input.

All of them work on the flat parameter vector of sklandscape.model.network, batched over any
leading axes of `flat` (and of the direction `v`), so a whole grid of parameter
vectors is differentiated in one pass, as the landscape engine evaluates it.

The loss is network.loss: for a regressor the mean over samples (and outputs) of the
squared residual, L = mean((f(X) - y)^2) (scikit-learn minimises half of it, plus its alpha
penalty); for a classifier the mean log-loss of its probabilities. With a logistic or softmax
output and the log-loss, dL/dz at the output is (p - Y) / n (Y the one-hot targets), and its
R-operator is R{p} / n: the same backward pass serves both. (sklearn's log_loss clips p to
[eps, 1 - eps]; the derivatives are those of the unclipped loss, equal wherever no
probability is within eps of 0 or 1.)

Hessian-vector products use Pearlmutter's R-operator (1994): the directional
derivative of every forward and backward quantity along v, carried through the same
layer loop. It is exact (no step size) and costs about two gradients, so the full
Hessian of a small network is P products with the unit vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sklandscape.model.network import (
    ACTIVATIONS,
    OUT_ACTIVATIONS,
    PROBABILITY_EPS,
    Network,
    loss,
    true_class_probability,
)


def _ones(z, a):
    return np.ones_like(a)


def _zeros(z, a):
    return np.zeros_like(a)


def _logistic_first(z, a):
    return a * (1.0 - a)


def _logistic_second(z, a):
    return a * (1.0 - a) * (1.0 - 2.0 * a)


def _tanh_first(z, a):
    return 1.0 - a * a


def _tanh_second(z, a):
    return -2.0 * a * (1.0 - a * a)


def _relu_first(z, a):
    # sklearn's convention: derivative 0 at z == 0.
    return (z > 0).astype(a.dtype)


# First and second derivative of each activation, from its input z and output a;
# keyed like network.ACTIVATIONS. relu's second derivative is 0 wherever it exists.
DERIVATIVES = {
    "identity": (_ones, _zeros),
    "logistic": (_logistic_first, _logistic_second),
    "tanh": (_tanh_first, _tanh_second),
    "relu": (_relu_first, _zeros),
}
assert DERIVATIVES.keys() == ACTIVATIONS.keys()


@dataclass
class _Pass:
    """One forward pass, kept for the backward pass: per layer its input, z, and s', s''."""

    layers: list[tuple[np.ndarray, np.ndarray]]
    inputs: list[np.ndarray]  # inputs[l] feeds layer l (0-based); inputs[0] is X
    first: list[np.ndarray]  # activation derivative at each layer's z
    second: list[np.ndarray]  # second derivative, if asked for (else empty)
    output: np.ndarray  # (..., n, k)


def _forward(net: Network, flat: np.ndarray, X: np.ndarray, second_order: bool = False) -> _Pass:
    """The forward pass; s'' only with `second_order` (the gradient does not need it)."""
    layers = net.layers(flat)
    inputs, first, second = [], [], []
    out = net.scale_inputs(X)
    with np.errstate(over="ignore", invalid="ignore"):
        for index, (coef, intercept) in enumerate(layers):
            last = index == net.n_layers - 1
            name = net.out_activation if last else net.activation
            inputs.append(out)
            z = out @ coef + intercept[..., None, :]
            out = OUT_ACTIVATIONS[name](z)
            if last and net.is_classifier:
                break  # the output's delta comes whole from the loss (_output_delta)
            d1, d2 = DERIVATIVES[name]
            first.append(d1(z, out))
            if second_order:
                second.append(d2(z, out))
    return _Pass(layers, inputs, first, second, out)


def _targets(y: np.ndarray, n_outputs: int) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    return y[:, None] if y.ndim == 1 and n_outputs == 1 else y


def _class_targets(net: Network, y: np.ndarray) -> np.ndarray:
    """One-hot targets (n, K) of a softmax output, or (n, 1) 0/1 of a logistic one."""
    index = np.asarray(y).astype(np.int64)
    if net.out_activation == "logistic":
        return index[:, None].astype(np.float64)
    return np.eye(net.layer_sizes[-1])[index]


def _output_delta(net: Network, fwd: _Pass, y: np.ndarray, n_samples: int | None = None):
    """dL/dz at the output layer (…, n, k), and a function giving its R-operator from R{z};
    the loss a mean over `n_samples` rows (default: fwd's), when fwd holds only some."""
    n = fwd.output.shape[-2] if n_samples is None else n_samples
    if net.is_classifier:
        p = fwd.output
        delta = (p - _class_targets(net, y)) / n
        if net.out_activation == "logistic":
            return delta, lambda rz: p * (1.0 - p) * rz / n
        return delta, lambda rz: p * (rz - np.sum(p * rz, axis=-1, keepdims=True)) / n
    residual = fwd.output - _targets(y, net.layer_sizes[-1])
    scale = (1.0 if net.objective == "sklearn" else 2.0) / residual.shape[-1] / n
    first, second = fwd.first[-1], fwd.second[-1] if fwd.second else None
    return scale * residual * first, lambda rz: scale * (first * first * rz
                                                         + residual * second * rz)


def _transpose(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


def _pack(grads: list[tuple[np.ndarray, np.ndarray]], batch: tuple[int, ...]) -> np.ndarray:
    """Per-layer (coef grad, intercept grad) in the flat order of network.Network."""
    parts = []
    for coef, intercept in grads:
        parts += [np.broadcast_to(coef, (*batch, *coef.shape[-2:])).reshape(*batch, -1),
                  np.broadcast_to(intercept, (*batch, intercept.shape[-1]))]
    return np.concatenate(parts, axis=-1)


def loss_and_gradient(net: Network, flat: np.ndarray, X: np.ndarray, y: np.ndarray):
    """The loss (MSE, or a classifier's log-loss) and its gradient for every parameter.

    flat: (..., P); X: (n, d); y: (n,). Returns loss (...,) and gradient (..., P).
    """
    flat = np.asarray(flat, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    fwd = _forward(net, flat, X)
    with np.errstate(over="ignore", invalid="ignore"):
        value = loss(net, _squeezed(fwd.output), y, flat)
        delta, _ = _output_delta(net, fwd, y)  # dL/dz at the output
        upstream = None  # dL/d(layer output), from the layer above
        grads = []
        for index in reversed(range(net.n_layers)):
            coef, _ = fwd.layers[index]
            if index < net.n_layers - 1:
                delta = upstream * fwd.first[index]  # dL/dz
            grads.append((_transpose(fwd.inputs[index]) @ delta, delta.sum(axis=-2)))
            if index:
                upstream = delta @ _transpose(coef)
    return value, _pack(grads[::-1], flat.shape[:-1]) + _penalty_step(net, flat, len(y))


def _penalty_step(net: Network, v: np.ndarray, n_samples: int):
    """d/dflat of sklearn's L2 penalty at v (and its Hessian applied to v): alpha/n on coefs."""
    if net.objective != "sklearn" or not net.alpha:
        return 0.0
    return (net.alpha / n_samples) * np.where(net.coef_mask, v, 0.0)


def _squeezed(output: np.ndarray) -> np.ndarray:
    """The output as network.forward gives it: a single output without its axis."""
    return output[..., 0] if output.shape[-1] == 1 else output


def hessian_vector_product(net: Network, flat: np.ndarray, X: np.ndarray, y: np.ndarray,
                           v: np.ndarray) -> np.ndarray:
    """H(flat) @ v for the network's loss (MSE or log-loss), exactly, by the R-operator.

    flat and v: (..., P) with broadcastable leading axes; returns (..., P).
    """
    flat = np.asarray(flat, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    fwd = _forward(net, flat, X, second_order=True)
    moves = net.layers(v)
    batch = np.broadcast_shapes(flat.shape[:-1], v.shape[:-1])
    with np.errstate(over="ignore", invalid="ignore"):
        # Forward: R{z} and R{a} layer by layer; R{X} = 0.
        r_z, r_input = [], None
        for index, (coef, _intercept) in enumerate(fwd.layers):
            v_coef, v_intercept = moves[index]
            rz = fwd.inputs[index] @ v_coef + v_intercept[..., None, :]
            if r_input is not None:
                rz = rz + r_input @ coef
            r_z.append(rz)
            if index < net.n_layers - 1:
                r_input = fwd.first[index] * rz
        delta, r_output = _output_delta(net, fwd, y)
        r_delta = r_output(r_z[-1])
        upstream = r_upstream = None  # from the layer above, once there is one
        grads, r_inputs = [], [None] + [fwd.first[i] * r_z[i] for i in range(net.n_layers - 1)]
        for index in reversed(range(net.n_layers)):
            coef, _ = fwd.layers[index]
            v_coef, _ = moves[index]
            if index < net.n_layers - 1:
                delta = upstream * fwd.first[index]
                r_delta = (r_upstream * fwd.first[index]
                           + upstream * fwd.second[index] * r_z[index])
            r_coef = _transpose(fwd.inputs[index]) @ r_delta
            if r_inputs[index] is not None:
                r_coef = r_coef + _transpose(r_inputs[index]) @ delta
            grads.append((r_coef, r_delta.sum(axis=-2)))
            if index:
                upstream, r_upstream = (delta @ _transpose(coef),
                                        r_delta @ _transpose(coef) + delta @ _transpose(v_coef))
    return _pack(grads[::-1], batch) + _penalty_step(net, v, len(y))


def hessian(net: Network, X: np.ndarray, y: np.ndarray, flat: np.ndarray | None = None,
            max_directions: int = 256) -> np.ndarray:
    """The full P x P Hessian of the loss at `flat` (default: the network's own weights).

    Column j is H @ e_j; columns are computed `max_directions` at a time to bound memory.
    Exact up to rounding, so it is symmetric to ~1e-15 relative; it is returned as computed.
    """
    flat = net.flat if flat is None else np.asarray(flat, dtype=np.float64)
    size = flat.shape[-1]
    columns = []
    for start in range(0, size, max_directions):
        units = np.eye(size)[start : start + max_directions]
        columns.append(hessian_vector_product(net, flat[None, :], X, y, units))
    return np.concatenate(columns, axis=0).T


def output_input_gradient(net: Network, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Prediction f(X) (n,) and its gradient df/dx (n, d) at the network's weights.

    Only for single-output networks: the input-space loss is a scalar per point.
    """
    if net.layer_sizes[-1] != 1:
        raise ValueError(f"input gradients need a single-output network, this one has "
                         f"{net.layer_sizes[-1]} outputs")
    X = np.asarray(X, dtype=np.float64)
    fwd = _forward(net, net.flat, X)
    upstream = np.ones_like(fwd.output)
    with np.errstate(over="ignore", invalid="ignore"):
        for index in reversed(range(net.n_layers)):
            coef, _ = fwd.layers[index]
            upstream = (upstream * fwd.first[index]) @ coef.T
    if net.scaler is not None:
        upstream = upstream * net.scaler.input_derivative()
    return fwd.output[:, 0], upstream


def sample_loss_input_gradient(net: Network, X: np.ndarray, target: np.ndarray):
    """Each sample's own loss at the network's weights, and its gradient with respect to that
    sample's input, (n,) and (n, d), the target held fixed.

    A regressor's loss is (f(x) - t)^2, averaged over its outputs (a target that moves with
    x adds its own term: the caller's); a classifier's is the log-loss -log p_t(x) of class t (unclipped gradient).
    """
    X = np.asarray(X, dtype=np.float64)
    fwd = _forward(net, net.flat, X)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if net.is_classifier:
            value = -np.log(np.clip(true_class_probability(
                _squeezed(fwd.output), target, net.out_activation == "logistic"),
                PROBABILITY_EPS, 1.0 - PROBABILITY_EPS))
            delta = fwd.output - _class_targets(net, target)
        else:
            residual = fwd.output - _targets(target, net.layer_sizes[-1])
            k = residual.shape[-1]  # several outputs: the mean of their squared errors
            value = np.mean(residual**2, axis=-1)
            delta = (2.0 / k) * residual * fwd.first[-1]
        upstream = None  # dLoss/d(layer input), layer by layer down to the input
        for index in reversed(range(net.n_layers)):
            coef, _ = fwd.layers[index]
            if index < net.n_layers - 1:
                delta = upstream * fwd.first[index]
            upstream = delta @ coef.T
    if net.scaler is not None:
        upstream = upstream * net.scaler.input_derivative()
    return value, upstream
