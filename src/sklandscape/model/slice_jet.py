"""The loss on a slice over two weights, with its exact gradient and 2x2 Hessian, by
second-order forward differentiation from the lowest moving layer.

On a slice theta(u) = trained weights with two entries replaced by u = (u0, u1), the
gradient and Hessian the analyses need have 2 and 3 entries; a full backward pass (or two
Hessian-vector products, each a forward and a backward pass over all P weights) computes
P of them and throws the rest away. Here the value and its derivatives in u travel
forward together, as six channels (value, d/du0, d/du1, d2/du0du0, d2/du0du1, d2/du1du1):

- the layers below the lowest moving weight never change: computed once;
- in that layer only the (at most two) units the weights feed change: computed alone;
- the next layer takes them as a rank-1 or rank-2 update of its trained pre-activation;
- every layer above runs whole, all six channels in one matrix product.

On digits with hidden [64, 32] (6,273 weights, 1,797 rows) this is what made the
curvature map and the optimizers affordable; the tests check every value against
sklandscape.model.gradients (backprop and the R-operator) and finite differences.

For a classifier the derivatives are those of the unclipped log-loss, like
sklandscape.model.gradients; the value is sklearn's (clipped) log-loss.
"""

from __future__ import annotations

import numpy as np

from sklandscape.model.gradients import DERIVATIVES
from sklandscape.model.network import (
    OUT_ACTIVATIONS,
    Network,
    hidden_before,
    l2_penalty,
    log_loss,
    parse_parameter_name,
)

PAIRS = ((0, 0), (0, 1), (1, 1))  # the second-derivative channels 3, 4, 5
PIECEWISE_LINEAR = ("identity", "relu")  # f'' = 0 wherever it exists
WORK_PER_CHUNK = 2**20  # channels x points x samples x widest layer above the lowest moving
# one, per chunk: 8 MB arrays stay in cache (2**19-2**22 measured, 2**20 fastest on digits)


class WeightSlice:
    """The loss as a function of two named weights, the others at their trained values."""

    def __init__(self, net: Network, X, y, axes: tuple[str, str]):
        if axes[0] == axes[1]:
            raise ValueError(f"a slice needs two different weights, got {axes[0]!r} twice")
        self.net, self.axes = net, tuple(axes)
        self.X, self.y = np.asarray(X, dtype=np.float64), np.asarray(y)
        self.coords = [_Coordinate(net, name) for name in axes]
        self.low = min(c.layer for c in self.coords)
        self.below = hidden_before(net, self.X, self.low)  # feeds layer `low`: never changes
        coef, intercept = net.layers()[self.low - 1]
        self.base_pre = self.below @ coef + intercept  # layer `low` at the trained weights
        self.moved_units = sorted({c.unit for c in self.coords if c.layer == self.low})
        if self.low < net.n_layers:  # the trained output of layer `low`, and what it feeds
            self.trained_out = OUT_ACTIVATIONS[net.activation](self.base_pre)
            coef, intercept = net.layers()[self.low]
            self.next_pre = self.trained_out @ coef + intercept
        others = net.flat.copy()
        others[[c.index for c in self.coords]] = 0.0
        sklearn = net.objective == "sklearn" and net.alpha
        self.penalty_base = float(l2_penalty(net, others, len(self.y))) if sklearn else 0.0
        self.penalty_scale = np.array([net.alpha / len(self.y) if sklearn and c.is_coef else 0.0
                                       for c in self.coords])

    def value_and_gradient(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Loss (...) and its gradient in the two weights (..., 2), at points u (..., 2)."""
        value, gradient, _ = self.jet(u, order=1)
        return value, gradient

    def hessian(self, u: np.ndarray) -> np.ndarray:
        """The 2x2 Hessian (..., 2, 2) at points u (..., 2)."""
        return self.jet(u, order=2)[2]

    def jet(self, u: np.ndarray, order: int = 2, progress=None):
        """Value (...), gradient (..., 2) and, with order 2, Hessian (..., 2, 2) at u (..., 2).

        progress(done, total) is called after every chunk of points, if given.
        """
        u = np.asarray(u, dtype=np.float64)
        flat_u = u.reshape(-1, 2)
        # Only the moving units of layer `low` are computed; the layers above it run whole.
        width = max(self.net.layer_sizes[self.low + 1 :] or (len(self.moved_units),))
        step = max(1, WORK_PER_CHUNK // (len(self.y) * width * (3 if order == 1 else 6)))
        value = np.empty(len(flat_u))
        gradient = np.empty((len(flat_u), 2))
        hessian = np.empty((len(flat_u), 2, 2)) if order == 2 else None
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for start in range(0, len(flat_u), step):
                chunk = flat_u[start : start + step]
                v, g, h = self._chunk(chunk, order)
                value[start : start + len(chunk)] = v
                gradient[start : start + len(chunk)] = g
                if order == 2:
                    hessian[start : start + len(chunk)] = h
                if progress is not None:
                    progress(start + len(chunk), len(flat_u))
        shape = u.shape[:-1]
        return (value.reshape(shape), gradient.reshape(*shape, 2),
                None if hessian is None else hessian.reshape(*shape, 2, 2))

    # --- the forward pass of one chunk of m points -------------------------------------------

    def _chunk(self, u: np.ndarray, order: int):
        net, m, n = self.net, len(u), len(self.y)
        channels = 3 if order == 1 else 6
        layers = net.layers()
        # Layer `low`: only the moved units, (channels, m, n, |S|).
        units = self.moved_units
        jet = np.zeros((channels, m, n, len(units)))
        jet[0] = self.base_pre[:, units]
        for k, c in enumerate(self.coords):
            if c.layer == self.low:
                column = units.index(c.unit)
                source = 1.0 if c.source is None else self.below[:, c.source]
                jet[0, :, :, column] += (u[:, k] - c.centre)[:, None] * source
                jet[1 + k, :, :, column] += source
        if self.low == net.n_layers:  # both weights in the output layer
            full = np.zeros((channels, m, n, net.layer_sizes[-1]))
            full[0] = self.base_pre
            full[:, :, :, units] = jet
            return self._loss(full, u, order)
        jet = self._activate(jet, net.activation)
        # Layer low + 1: its trained pre-activation plus a rank-|S| update.
        coef, _ = layers[self.low]
        change = jet.copy()
        change[0] -= self.trained_out[:, units]
        pre = (change.reshape(-1, len(units)) @ coef[units, :]).reshape(*change.shape[:-1], -1)
        pre[0] += self.next_pre
        source_jet = _SparseInput(self.trained_out, units, jet)
        layer = self.low + 1
        while True:
            for k, c in enumerate(self.coords):
                if c.layer == layer:
                    self._seed(pre, k, c, u, source_jet)
            if layer == net.n_layers:
                return self._loss(pre, u, order)
            out = self._activate(pre, net.activation)
            coef, intercept = layers[layer]
            source_jet = _DenseInput(out)
            pre = (out.reshape(-1, out.shape[-1]) @ coef).reshape(*out.shape[:-1], -1)
            pre[0] += intercept
            layer += 1

    def _seed(self, pre, k: int, c: _Coordinate, u, inputs) -> None:
        """Add what weight k (in this layer) changes: (u_k - trained) times its input S.

        S depends on the other weight o only (it is below k's layer). With d = u_k - trained,
        the term's value is d S; d/du_k = S, d/du_o = d dS/du_o; d2/du_k du_o = dS/du_o,
        d2/du_o2 = d d2S/du_o2, d2/du_k2 = 0.
        """
        if c.source is None:  # an intercept: S = 1
            pre[0, :, :, c.unit] += (u[:, k] - c.centre)[:, None]
            pre[1 + k, :, :, c.unit] += 1.0
            return
        delta = (u[:, k] - c.centre)[:, None]
        other = 1 - k
        pre[0, :, :, c.unit] += delta * inputs.column(0, c.source)
        pre[1 + k, :, :, c.unit] += inputs.column(0, c.source)
        pre[1 + other, :, :, c.unit] += delta * inputs.column(1 + other, c.source)
        if len(pre) == 6:
            pre[4, :, :, c.unit] += inputs.column(1 + other, c.source)
            pre[3 + 2 * other, :, :, c.unit] += delta * inputs.column(3 + 2 * other, c.source)

    @staticmethod
    def _activate(pre: np.ndarray, activation: str) -> np.ndarray:
        """The activation's jet: a = f(z), da = f' dz, d2a = f'' dz dz + f' d2z."""
        out = np.empty_like(pre)
        out[0] = OUT_ACTIVATIONS[activation](pre[0])
        first, second = DERIVATIVES[activation]
        d1 = first(pre[0], out[0])
        np.multiply(pre[1:], d1, out=out[1:])
        if len(pre) == 6 and activation not in PIECEWISE_LINEAR:
            d2 = second(pre[0], out[0])
            for p, (a, b) in enumerate(PAIRS):
                out[3 + p] += d2 * pre[1 + a] * pre[1 + b]
        return out

    def _loss(self, z: np.ndarray, u: np.ndarray, order: int):
        """Value, gradient, Hessian of the loss from the output layer's pre-activation jet."""
        if self.net.is_classifier:
            value, g, h = self._log_loss(z, order)
        else:
            value, g, h = self._squared_error(z, order)
        penalty = self.penalty_scale
        value = value + self.penalty_base + 0.5 * np.sum(penalty * u * u, axis=-1)
        g = g + penalty * u
        if h is not None:
            h = h + np.diag(penalty)
        return value, g, h

    def _squared_error(self, z: np.ndarray, order: int):
        net, n = self.net, len(self.y)
        out = self._activate(z, net.out_activation)
        target = self.y.astype(np.float64).reshape(n, -1)
        residual = out[0] - target
        k = residual.shape[-1]
        scale = (0.5 if net.objective == "sklearn" else 1.0) / (n * k)
        value = scale * np.sum(residual * residual, axis=(-2, -1))
        g = 2 * scale * np.stack([np.sum(residual * out[1 + a], axis=(-2, -1))
                                  for a in range(2)], axis=-1)
        if order == 1:
            return value, g, None
        h = _symmetric([2 * scale * np.sum(out[1 + a] * out[1 + b] + residual * out[3 + p],
                                           axis=(-2, -1)) for p, (a, b) in enumerate(PAIRS)])
        return value, g, h

    def _log_loss(self, z: np.ndarray, order: int):
        net, n = self.net, len(self.y)
        binary = net.out_activation == "logistic"
        p = OUT_ACTIVATIONS[net.out_activation](z[0])
        index = self.y.astype(np.int64)
        value = log_loss(p[..., 0] if binary else p, index, binary)
        targets = index[:, None].astype(np.float64) if binary else np.eye(p.shape[-1])[index]
        delta = (p - targets) / n  # dL/dz, the canonical link's
        g = np.stack([np.sum(delta * z[1 + a], axis=(-2, -1)) for a in range(2)], axis=-1)
        if order == 1:
            return value, g, None
        entries = []
        for q, (a, b) in enumerate(PAIRS):
            if binary:
                curvature = np.sum(p * (1 - p) * z[1 + a] * z[1 + b], axis=(-2, -1))
            else:
                curvature = (np.sum(p * z[1 + a] * z[1 + b], axis=(-2, -1))
                             - np.sum(np.sum(p * z[1 + a], axis=-1)
                                      * np.sum(p * z[1 + b], axis=-1), axis=-1))
            entries.append(curvature / n + np.sum(delta * z[3 + q], axis=(-2, -1)))
        return value, g, _symmetric(entries)


class _Coordinate:
    """A named weight: its layer (1-based), the unit it feeds, the unit it reads (None for
    an intercept), its index in the flat vector and its trained value."""

    def __init__(self, net: Network, name: str):
        kind, self.layer, source, self.unit = parse_parameter_name(name)
        self.source = source if kind == "weight" else None
        self.index = net.index(name)
        self.centre = float(net.flat[self.index])
        self.is_coef = kind == "weight"


class _SparseInput:
    """A layer's input whose only moving columns are `units` (their jet); the rest trained."""

    def __init__(self, trained: np.ndarray, units: list[int], jet: np.ndarray):
        self.trained, self.units, self.jet = trained, units, jet

    def column(self, channel: int, source: int | None):
        if source is None:
            return 1.0 if channel == 0 else 0.0
        if source in self.units:
            return self.jet[channel, :, :, self.units.index(source)]
        return self.trained[:, source] if channel == 0 else 0.0


class _DenseInput:
    def __init__(self, jet: np.ndarray):
        self.jet = jet

    def column(self, channel: int, source: int | None):
        if source is None:
            return 1.0 if channel == 0 else 0.0
        return self.jet[channel, :, :, source]


def _symmetric(entries) -> np.ndarray:
    h00, h01, h11 = entries
    return np.stack([np.stack([h00, h01], axis=-1), np.stack([h01, h11], axis=-1)], axis=-2)
