"""How a structured path walks a weights slice: sample blocks, bands of rows, the guard.

A path (sklandscape.engine.expanded, sklandscape.engine.unitwise) computes whole-axis arrays on one block of
samples (compute_factors), then either per-cell sums over the samples (cell_sums,
accumulated block by block) or the loss of a band from whole-axis sums alone (expand).

Every cell is computed inside one globally aligned block of ROW_BLOCK rows, from
quantities of whole axes, so any range of rows (a tile) gives the same bits as the whole
grid. Memory stays bounded: samples come in blocks sized by WORK_BYTES and cells in
bands of BAND_CELLS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sklandscape.engine.landscape import ROW_BLOCK, Grid, Progress, aligned_blocks, trimmed
from sklandscape.engine.moves import Coordinate, centre_state, sample_rows
from sklandscape.model.network import Network

# Working set of the per-axis arrays of one block of samples.
WORK_BYTES = 48 * 1024 * 1024
# Cells of loss computed and handed on together (whole blocks of rows).
BAND_CELLS = 1 << 18
# Recompute a cell directly when its terms exceed its loss by more than this over
# (4 + sqrt(n)): with rounding ~eps sqrt(n) terms, cells keep about 11 significant digits.
CANCELLATION = 1e-11 / np.finfo(np.float64).eps


@dataclass(frozen=True)
class Plan:
    kind: str
    low: Coordinate | None = None  # the weight in the lower layer (the first axis on a tie)
    high: Coordinate | None = None
    low_first: bool = True  # whether `low` is the grid's first (slow) axis


def rowsq(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Sum over samples (the last axis) of a*b, row by row."""
    return np.einsum("ij,ij->i", a, a if b is None else b)


class SlicePath:
    """The loop over bands of rows and blocks of samples that every structured path shares."""

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
        """Yield (first row, loss of those rows), band by band, over `rows` of the grid."""
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

    def expand(self, band: range, sums) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        return sums / self.n

    def _guard(self, band: range, expanded) -> np.ndarray:
        """Recompute directly the cells whose loss drowns in the rounding of its terms.

        The expanded forms give (loss, terms), terms bounding what was summed; paths that
        sum squared residuals give the loss alone and need no guard.
        """
        if not isinstance(expanded, tuple):
            return expanded
        loss, terms = expanded
        limit = CANCELLATION / (4.0 + np.sqrt(self.n))
        i, j = np.nonzero(~(terms <= limit * self.n * loss))  # also catches nan and inf
        if i.size:
            total = np.zeros(i.size)
            for k in range(len(self.sample_blocks)):
                total += rowsq(self.cell_residual(self.factors(k), i + band.start, j))
            loss[i, j] = total / self.n
        return loss
