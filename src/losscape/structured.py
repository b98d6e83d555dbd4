"""Structured evaluation of a weights slice: recompute only what the two moving weights change.

With the output linear in the last hidden layer (MLPRegressor's identity output), the
residual at grid point (p, q) takes one of these forms, with A the residual along the
lower weight's axis (G forward passes, not G^2) and s the offset of the higher weight:

- output_quadratic, one weight in the output layer: e = A_p + s_q H_p, so the loss is
  quadratic in s_q with coefficients from three sums over the samples per p.
- separable, the two weights feed different units of the last hidden layer:
  e = A_p + B_q, so the loss is |A_p|^2 + |B_q|^2 + 2 A_p.B_q, the last a matrix product.
- one_unit, both reach one unit of the last hidden layer (two of its inputs, or a
  deeper weight and one of its inputs): e = A_p + v (sigma(P_p + s_q U_p) - sigma(P_p)),
  one unit recomputed per cell instead of every unit above the lower weight. When
  U does not depend on p, logistic and tanh factor through exp: exp(-k P_p) exp(-k s_q U),
  so a cell costs a product and a division, not a transcendental function.
- plain, both below the last hidden layer (or a non-linear output): the batched
  forward pass from the lowest moving layer, landscape.plain_rows, the reference.

The expanded forms (quadratic, separable) lose digits where the loss is far below the
terms it is the sum of; such cells are detected from the terms and recomputed directly.

Every cell is computed inside one globally aligned block of ROW_BLOCK rows, with
whole-axis quantities shared, so any range of rows (a tile) gives the same bits as the
whole grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from losscape.landscape import ROW_BLOCK, Grid, Progress, aligned_blocks, plain_rows, trimmed
from losscape.moves import Coordinate, centre_state, coordinate, input_of, sample_rows, trace
from losscape.network import ACTIVATIONS, Network

# Working set of the per-axis arrays of one block of samples.
WORK_BYTES = 48 * 1024 * 1024
# Cells of loss computed and handed on together (whole blocks of rows).
BAND_CELLS = 1 << 18
# Recompute a cell directly when its terms exceed its loss this many times over:
# with rounding ~eps * sqrt(n) * terms, cells keep about 11 significant digits.
CANCELLATION = 1e-11 / np.finfo(np.float64).eps
# sigma(z) = alpha / (1 + exp(-k z)) + beta, for the activations that factor through exp.
EXP_FORMS = {"logistic": (1.0, 1.0), "tanh": (2.0, 2.0)}  # (alpha, k)
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
}  # |k z| bound that keeps exp(-k P) exp(-k s U) finite and nonzero

KINDS = ("output_quadratic", "separable", "one_unit", "plain")


@dataclass(frozen=True)
class Plan:
    kind: str
    low: Coordinate | None = None  # the weight in the lower layer (the first axis on a tie)
    high: Coordinate | None = None
    low_first: bool = True  # whether `low` is the grid's first (slow) axis


def plan_pair(net: Network, axes: tuple[str, str]) -> Plan:
    """Which structured path evaluates this pair of weights."""
    linear_output = net.out_activation == "identity" and net.layer_sizes[-1] == 1
    if not linear_output or net.n_layers < 2:
        return Plan("plain")
    first, second = (coordinate(net, name) for name in axes)
    low_first = first.layer <= second.layer
    low, high = (first, second) if low_first else (second, first)
    L = net.n_layers
    if high.layer == L:
        kind = "output_quadratic"
    elif high.layer == L - 1 and low.layer == L - 1 and low.unit != high.unit:
        kind = "separable"
    elif high.layer == L - 1:
        kind = "one_unit"
    else:
        kind = "plain"
    return Plan(kind, low, high, low_first)


def weights_slice_rows(
    net: Network, X, y, grid: Grid, rows: range | None = None, progress: Progress | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first row, loss of those rows) over `rows` of the grid, by the fastest exact path.

    BLAS runs on one thread here: the products are small (ROW_BLOCK rows), where
    threads cost more than they give, and a fixed thread count keeps a tile's bits
    equal to the whole grid's.
    """
    from threadpoolctl import threadpool_limits

    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    plan = plan_pair(net, grid.names)
    if plan.kind == "plain":
        path = plain_rows(net, X, y, grid, rows, progress)
    else:
        if plan.kind == "one_unit":
            kind = _LinearUnit if net.activation == "identity" else _OneUnit
        else:
            kind = {"output_quadratic": _Quadratic, "separable": _Separable}[plan.kind]
        path = kind(net, X, y, grid, plan).rows(rows, progress)
    with threadpool_limits(1, user_api="blas"):
        yield from path


def weights_slice_structured(net: Network, X, y, grid: Grid) -> np.ndarray:
    """The whole grid's loss, shape grid.shape."""
    loss = np.empty(grid.shape)
    for first, values in weights_slice_rows(net, X, y, grid):
        loss[first : first + len(values)] = values
    return loss


def _rowsq(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Sum over samples (the last axis) of a*b, row by row."""
    return np.einsum("ij,ij->i", a, a if b is None else b)


class _Path:
    """Sample blocks, per-axis factors, and the loop over bands of rows that the paths share.

    Subclasses give compute_factors (whole-axis arrays on one block of samples), and
    either cell_sums (per-cell sums over samples, accumulated block by block) or
    expand (the loss of a band from whole-axis sums alone).
    """

    cellwise = True  # whether cells need sums over samples of their own

    def __init__(self, net: Network, X, y, grid: Grid, plan: Plan):
        self.net, self.X, self.y, self.grid, self.plan = net, X, y, grid, plan
        self.n = len(y)
        m = sample_rows(self.n, max(grid.shape), max(net.layer_sizes[1:-1]), WORK_BYTES)
        self.sample_blocks = [slice(s, min(self.n, s + m)) for s in range(0, self.n, m)]
        # offsets from the centre along each axis (exactly 0 at an odd grid's centre)
        self.offsets = {c.name: self._axis(c.name) - c.centre for c in (plan.low, plan.high)}
        self._kept = None
        self._sums = None

    def _axis(self, name):
        return self.grid.first if name == self.grid.names[0] else self.grid.second

    def factors(self, k: int):
        """Whole-axis arrays on sample block k; kept when the samples fit in one block."""
        if self._kept is not None:
            return self._kept
        block = self.sample_blocks[k]
        found = self.compute_factors(centre_state(self.net, self.X[block], self.y[block]))
        if len(self.sample_blocks) == 1:
            self._kept = found
        return found

    def axis_sums(self):
        """Per-axis sums over all samples (the squared norms the expansions need)."""
        if self._sums is None:
            parts = [self.factor_sums(self.factors(k)) for k in range(len(self.sample_blocks))]
            self._sums = tuple(sum(column) for column in zip(*parts))
        return self._sums

    def rows(self, rows: range | None, progress: Progress | None):
        n_rows, n_cols = self.grid.shape
        rows = range(n_rows) if rows is None else rows
        blocks = list(aligned_blocks(rows, n_rows))
        per_band = max(1, BAND_CELLS // (ROW_BLOCK * n_cols))
        done, total = 0, len(rows) * n_cols
        for b in range(0, len(blocks), per_band):
            group = blocks[b : b + per_band]
            band = range(group[0].start, group[-1].stop)
            sums = None
            if self.cellwise:
                sums = np.zeros((len(band), n_cols))
                for k in range(len(self.sample_blocks)):
                    f = self.factors(k)
                    for block in group:  # products shaped by the block, never by the band
                        self.cell_sums(f, block, sums[block.start - band.start : block.stop - band.start])
            first, values = trimmed(band, self._guard(band, self.expand(band, sums)), rows)
            done += values.size
            if progress:
                progress(done, total)
            yield first, values

    def _guard(self, band: range, expanded) -> np.ndarray:
        """Recompute directly the cells whose loss drowns in the rounding of its terms.

        The expanded forms give (loss, terms), terms bounding what was summed; the
        one-unit path gives the loss alone, summed from the residuals, needing no guard.
        """
        if not isinstance(expanded, tuple):
            return expanded
        loss, terms = expanded
        limit = CANCELLATION / (4.0 + np.sqrt(self.n))
        i, j = np.nonzero(~(terms <= limit * self.n * loss))  # also catches nan and inf
        if i.size:
            total = np.zeros(i.size)
            for k in range(len(self.sample_blocks)):
                total += _rowsq(self.cell_residual(self.factors(k), i + band.start, j))
            loss[i, j] = total / self.n
        return loss


class _Quadratic(_Path):
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
            return _rowsq(A), A @ H[0], np.full(len(A), H[0] @ H[0])
        return _rowsq(A), _rowsq(A, H), _rowsq(H)

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


class _Separable(_Path):
    """e = R_p + C_q: the two weights feed different units of the last hidden layer."""

    def compute_factors(self, state):
        first, second = (coordinate(self.net, name) for name in self.grid.names)
        R = state.residual + trace(self.net, state, first, self.offsets[first.name]).change
        return R, trace(self.net, state, second, self.offsets[second.name]).change

    @staticmethod
    def factor_sums(f):
        return _rowsq(f[0]), _rowsq(f[1])

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


def _unit_input(state, along, plan: Plan) -> np.ndarray:
    """U: what the higher weight multiplies in its unit, (G_low, m), or (1, m) if fixed."""
    low, high = plan.low, plan.high
    if high.source is None:
        return np.ones((1, len(state.residual)))
    if low.layer == high.layer:
        return input_of(state, high)[None, :]
    return along.below_last[:, :, high.source]


class _OneUnit(_Path):
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
        U = _unit_input(state, along, self.plan)
        s = self.offsets[high.name]
        if self.form is not None and len(U) == 1:
            alpha, k = self.form
            if np.abs(k * P).max() <= EXP_RANGE and k * np.abs(s).max() * np.abs(U).max() <= EXP_RANGE:
                # sigma(P + sU) = alpha / (1 + exp(-kP) exp(-ksU)) + beta
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
            out[r] += _rowsq(buf)

    def expand(self, band, sums):
        return sums / self.n


class _LinearUnit(_Quadratic):
    """An identity unit: sigma(P + sU) - sigma(P) = sU, so e = A_p + s_q v U_p."""

    def compute_factors(self, state):
        low = self.plan.low
        along = trace(self.net, state, low, self.offsets[low.name])
        A = state.residual + along.change
        v = float(self.net.layers()[-1][0][self.plan.high.unit, 0])
        return A, v * _unit_input(state, along, self.plan)
