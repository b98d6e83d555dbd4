"""Structured paths that recompute, per cell, only the units the two weights reach.

- OneUnit: both weights meet in one unit of the last hidden layer (two of its inputs, or
  a deeper weight and one of its inputs): e = A_p + v (sigma(P_p + s_q U_p) - sigma(P_p)).
  One unit per cell instead of every unit above the lower weight. When U does not
  depend on p, logistic and tanh factor through exp:
  sigma(P + sU) = alpha / (1 + exp(-kP) exp(-ksU)) + beta, so a cell costs a product
  and a division, not a transcendental function.
- RankUpdate: both weights below the last hidden layer. In the lower weight's layer only
  the one or two units they feed are recomputed; they reach the next layer as a rank-1
  or rank-2 update instead of a matrix product; the layers above are recomputed whole.
"""

from __future__ import annotations

import numpy as np

from sklandscape.engine.expanded import unit_input
from sklandscape.engine.moves import input_of, trace
from sklandscape.engine.slicing import SlicePath, rowsq
from sklandscape.model.network import ACTIVATIONS

# sigma(z) = alpha / (1 + exp(-k z)) + beta, for the activations that factor through exp.
EXP_FORMS = {"logistic": (1.0, 1.0), "tanh": (2.0, 2.0)}  # (alpha, k)
# |k z| bound that keeps exp(-k P) exp(-k s U) finite and nonzero
EXP_RANGE = 300.0


def _logistic_in_place(z):
    with np.errstate(over="ignore"):
        np.negative(z, out=z)
        np.exp(z, out=z)
        z += 1.0
        np.divide(1.0, z, out=z)


# The activations applied to a buffer in place (same formulas as network.ACTIVATIONS).
IN_PLACE = {
    "identity": lambda z: None,
    "logistic": _logistic_in_place,
    "tanh": lambda z: np.tanh(z, out=z),
    "relu": lambda z: np.maximum(z, 0.0, out=z),
}


class OneUnit(SlicePath):
    """e = A_p + v (sigma(P_p + s_q U_p) - sigma(P_p)) in unit `high.unit` of the last hidden layer."""

    def __init__(self, net, X, y, grid, plan):
        super().__init__(net, X, y, grid, plan)
        self.v = float(net.layers()[-1][0][plan.high.unit, 0])
        self.activate = IN_PLACE[net.activation]
        self.form = EXP_FORMS.get(net.activation)

    def compute_factors(self, state):
        low, high = self.plan.low, self.plan.high
        along = trace(self.net, state, low, self.offsets[low.name])
        A = state.residual + along.change
        P = along.pre_last[:, :, high.unit]
        U = unit_input(state, along, self.plan)
        s = self.offsets[high.name]
        if self.form is not None and len(U) == 1:
            alpha, k = self.form
            if np.abs(k * P).max() <= EXP_RANGE and k * np.abs(s).max() * np.abs(U).max() <= EXP_RANGE:
                E = np.exp(-k * P)
                F = np.exp(-k * s[:, None] * U)  # (G_high, m)
                numerator = self.v * alpha
                return "exp", A - numerator / (1.0 + E), E, F, numerator
        return "direct", A - self.v * ACTIVATIONS[self.net.activation](P), P, U, s

    def cell_sums(self, f, block, out):
        # One row of cells at a time, in a reused buffer of (cells in the row, samples).
        low_first = self.plan.low_first
        kind, c = f[0], f[1]
        buf = np.empty((self.grid.shape[1], c.shape[1]))
        for r, row in enumerate(block):
            if kind == "exp":
                _, _, E, F, numerator = f
                np.multiply(F, E[row], out=buf) if low_first else np.multiply(E, F[row], out=buf)
                buf += 1.0
                np.divide(numerator, buf, out=buf)
            else:
                _, _, P, U, s = f
                if low_first:
                    np.multiply(s[:, None], U[row if len(U) > 1 else 0], out=buf)
                    buf += P[row]
                else:
                    np.multiply(s[row], U, out=buf)
                    buf += P
                self.activate(buf)
                buf *= self.v
            buf += c[row] if low_first else c
            out[r] += rowsq(buf)


class RankUpdate(SlicePath):
    """Both weights below the last hidden layer: their units, a rank update, then full layers."""

    def _buffer(self, shape):
        """A reused (cells, samples, width) array: at least `shape`, viewed down to it."""
        work = getattr(self, "_work", None)
        if work is None or work.shape[1:] != shape[1:] or work.shape[0] < shape[0]:
            self._work = work = np.empty(shape)
        return work[: shape[0]]

    def compute_factors(self, state):
        return state

    def cell_sums(self, state, block, out):
        n_cols = self.grid.shape[1]
        width = max(self.net.layer_sizes[1:-1])
        # cells per call: arrays of (cells, samples, width) near 1 MB, to stay in cache
        step = max(1, (1 << 17) // (len(state.residual) * width))
        s_low, s_high = self.offsets[self.plan.low.name], self.offsets[self.plan.high.name]
        for r, row in enumerate(block):
            for start in range(0, n_cols, step):  # column chunks aligned to column 0
                cols = slice(start, min(n_cols, start + step))
                if self.plan.low_first:
                    s, t = np.full(cols.stop - start, s_low[row]), s_high[cols]
                else:
                    s, t = s_low[cols], np.full(cols.stop - start, s_high[row])
                out[r, cols] += rowsq(self.residual(state, s, t))

    def residual(self, state, s, t) -> np.ndarray:
        """e for c cells: the lower weight moved by s (c,), the higher one by t (c,)."""
        low, high = self.plan.low, self.plan.high
        activate = ACTIVATIONS[self.net.activation]
        layers, L, l = self.net.layers(), self.net.n_layers, low.layer  # noqa: E741 (layer index, as in the maths)
        shifts = {low.unit: s[:, None] * input_of(state, low)}
        if high.layer == l:
            shifts[high.unit] = shifts.get(high.unit, 0.0) + t[:, None] * input_of(state, high)
        changed = {u: activate(state.pre[l][:, u] + shift) - state.hidden[l][:, u]
                   for u, shift in shifts.items()}
        units = list(changed)
        # Reused buffers: fresh arrays of this size cost page faults worth more than the math.
        pre = self._buffer((len(s), len(state.residual), self.net.layer_sizes[l + 1]))
        if len(units) == 1:
            np.multiply(changed[units[0]][:, :, None], layers[l][0][units[0], :], out=pre)
        else:
            np.matmul(np.stack([changed[u] for u in units], axis=-1), layers[l][0][units, :], out=pre)
        pre += state.pre[l + 1]
        below = None  # the full output of layer k - 1, once recomputed
        for k in range(l + 1, L):  # pre: the pre-activation of layer k
            if high.layer == k > l:
                if high.source is None:
                    feed = 1.0
                elif below is None:  # layer k - 1 is layer l: its changed units, else the centre
                    feed = state.hidden[l][:, high.source] + changed.get(high.source, 0.0)
                else:
                    feed = below[:, :, high.source]
                pre[:, :, high.unit] += t[:, None] * feed
            IN_PLACE[self.net.activation](pre)
            below = pre
            if k < L - 1:
                pre = below @ layers[k][0]
                pre += layers[k][1]
        v = layers[L - 1][0][:, 0]
        return (below @ v - state.hidden[L - 1] @ v) + state.residual
