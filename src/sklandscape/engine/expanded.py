"""Structured paths whose loss comes from sums over the samples, expanded per cell.

- Quadratic: one weight s multiplies H_p in the linear output, e = A_p + s_q H_p, so
  n loss = |A_p|^2 + 2 s_q A_p.H_p + s_q^2 |H_p|^2: three sums per p, then O(1) a cell.
- Separable: the weights feed different units of the last hidden layer, e = R_p + C_q,
  so n loss = |R_p|^2 + |C_q|^2 + 2 R_p.C_q, the last one a matrix product.
- LinearUnit: an identity unit is linear in its input weights, so it is Quadratic.

Cells whose loss is far below the terms it sums are recomputed by SlicePath's guard,
from cell_residual.
"""

from __future__ import annotations

import numpy as np

from sklandscape.engine.moves import coordinate, input_of, trace
from sklandscape.engine.slicing import Plan, SlicePath, rowsq
from sklandscape.model.network import ACTIVATIONS


class Quadratic(SlicePath):
    """e = A_p + s_q H_p: the higher weight multiplies H_p in the (linear) output."""

    cellwise = False

    def compute_factors(self, state):
        low, high = self.plan.low, self.plan.high
        along = trace(self.net, state, low, self.offsets[low.name])
        A = state.residual + along.change
        if high.source is None:
            return A, np.ones((1, A.shape[1]))
        return A, ACTIVATIONS[self.net.activation](along.pre_last[:, :, high.source])

    @staticmethod
    def factor_sums(f):
        A, H = f
        if len(H) == 1:
            return rowsq(A), A @ H[0], np.full(len(A), H[0] @ H[0])
        return rowsq(A), rowsq(A, H), rowsq(H)

    def expand(self, band, _):
        a2, ah, h2 = self.axis_sums()
        s = self.offsets[self.plan.high.name]
        here = slice(band.start, band.stop)
        if self.plan.low_first:
            a2, ah, h2, s = a2[here, None], ah[here, None], h2[here, None], s[None, :]
        else:
            a2, ah, h2, s = a2[None, :], ah[None, :], h2[None, :], s[here, None]
        with np.errstate(over="ignore", invalid="ignore"):
            terms = a2 + s * s * h2
            loss = (terms + 2.0 * s * ah) / self.n
        return loss, np.broadcast_to(terms, loss.shape)

    def cell_residual(self, f, i, j):
        A, H = f
        p, q = (i, j) if self.plan.low_first else (j, i)
        s = self.offsets[self.plan.high.name][q][:, None]
        return A[p] + s * (H if len(H) == 1 else H[p])


class Separable(SlicePath):
    """e = R_p + C_q: the two weights feed different units of the last hidden layer."""

    def compute_factors(self, state):
        first, second = (coordinate(self.net, name) for name in self.grid.names)
        R = state.residual + trace(self.net, state, first, self.offsets[first.name]).change
        return R, trace(self.net, state, second, self.offsets[second.name]).change

    @staticmethod
    def factor_sums(f):
        return rowsq(f[0]), rowsq(f[1])

    def cell_sums(self, f, block, out):
        R, C = f
        out += R[block.start : block.stop] @ C.T

    def expand(self, band, cross):
        r2, c2 = self.axis_sums()
        terms = r2[band.start : band.stop, None] + c2[None, :]
        with np.errstate(over="ignore", invalid="ignore"):
            return (terms + 2.0 * cross) / self.n, terms

    def cell_residual(self, f, i, j):
        return f[0][i] + f[1][j]


def unit_input(state, along, plan: Plan) -> np.ndarray:
    """U: what the higher weight multiplies in its unit, (G_low, m), or (1, m) if fixed."""
    low, high = plan.low, plan.high
    if high.source is None:
        return np.ones((1, len(state.residual)))
    if low.layer == high.layer:
        return input_of(state, high)[None, :]
    return along.below_last[:, :, high.source]


class LinearUnit(Quadratic):
    """An identity unit: sigma(P + sU) - sigma(P) = sU, so e = A_p + s_q v U_p."""

    def compute_factors(self, state):
        low = self.plan.low
        along = trace(self.net, state, low, self.offsets[low.name])
        A = state.residual + along.change
        v = float(self.net.layers()[-1][0][self.plan.high.unit, 0])
        return A, v * unit_input(state, along, self.plan)
