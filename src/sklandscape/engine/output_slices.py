"""A weights slice of a classifier or a multi-output regressor, recomputing per cell only
what the two weights change.

A classifier's loss is not quadratic in its output, and a multi-output regressor's output
is not one number, so the single-output regressor's expansions (sklandscape.engine.expanded)
do not apply; what does is the rank structure of a move.
With the lower weight in layer l (1-based, as the names: W{l} maps layer l-1 to layer l):

- its unit's pre-activation shifts by s times what the weight multiplies (a column of the
  layer below, or 1 for a bias); so does the higher weight's when it sits in layer l too;
- those one or two units' changes reach layer l + 1 as a rank-1 or rank-2 update of the
  centre's pre-activations, not a matrix product; above that, layers are computed whole,
  the higher weight's shift added where it sits;
- at the output (l = L: both weights there) the logits are the centre's with one or two
  columns shifted.

The outputs then go through the plain pass's own loss and accuracy (network.loss and
network.accuracy: sklearn.metrics.log_loss with its clipping, or the mean squared error over
rows and outputs), so every cell equals the plain pass to rounding. Cells are computed in chunks of a fixed size inside
blocks of ROW_BLOCK rows aligned to row 0, so a tile gives the bits of the whole grid.
"""

from __future__ import annotations

import numpy as np

from sklandscape.engine.landscape import Grid, Progress, aligned_blocks, chunk_size, trimmed
from sklandscape.engine.moves import Coordinate
from sklandscape.engine.scoring import Scorer
from sklandscape.engine.slicing import Plan
from sklandscape.model.network import (
    ACTIVATIONS,
    Network,
    activate_in_place,
)

CHUNK_VALUES = 1 << 14


class OutputSlice:
    """Loss (and a classifier's accuracy) over a weights grid, by rank updates from the
    lowest moving layer."""

    def __init__(self, net: Network, X, y, grid: Grid, plan: Plan):
        self.net, self.y, self.grid, self.plan = net, y, grid, plan
        self.layers = net.layers()
        activate = ACTIVATIONS[net.activation]
        # The centre: every layer's input and pre-activation at the trained weights.
        self.hidden, self.pre = [net.scale_inputs(X)], [None]
        for k, (coef, intercept) in enumerate(self.layers, start=1):
            self.pre.append(self.hidden[-1] @ coef + intercept)
            if k < net.n_layers:
                self.hidden.append(activate(self.pre[-1]))
        low, high = plan.low, plan.high
        self.offsets = {c.name: self._axis(c.name) - c.centre for c in (low, high)}
        widest = max(net.layer_sizes[low.layer:])
        # Cells per chunk: about CHUNK_VALUES values per (cells, samples) temporary of the loss,
        # small enough to stay in cache (measured on breast_cancer: 28 cells of 569 rows take
        # 1.6-2.3x less CPU than the plain pass's 32 MB chunks).
        self.step = max(1, min(CHUNK_VALUES // len(y), chunk_size(len(y), widest)))
        # Buffers of each recomputed layer, allocated once: fresh arrays of this size would
        # each map new pages (a page fault per 4 KiB) on every chunk.
        self.buffers = {k: np.empty((self.step, len(y), net.layer_sizes[k]))
                        for k in range(low.layer if low.layer == net.n_layers else low.layer + 1,
                                       net.n_layers + 1)}
        self.names = ("loss", "accuracy") if net.is_classifier else ("loss",)
        self.score = Scorer(net, y, self.step)

    def _axis(self, name):
        return self.grid.first if name == self.grid.names[0] else self.grid.second

    def _input(self, coord: Coordinate, below=None) -> np.ndarray:
        """What the parameter multiplies: its source unit's output (the centre's, or `below`
        (c, n, width) recomputed), or 1 for a bias."""
        if coord.source is None:
            return np.ones(len(self.y))
        if below is not None:
            return below[:, :, coord.source]
        return self.hidden[coord.layer - 1][:, coord.source]

    def _logits(self, s: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The output layer's pre-activations (c, n, K) with the low weight moved by s (c,)
        and the high one by t (c,)."""
        net, low, high, L = self.net, self.plan.low, self.plan.high, self.net.n_layers
        c, layer = len(s), low.layer
        shifts = {low.unit: s[:, None] * self._input(low)}
        if high.layer == layer:
            shifts[high.unit] = shifts.get(high.unit, 0.0) + t[:, None] * self._input(high)
        if layer == L:
            logits = self.buffers[L][:c]
            logits[...] = self.pre[L]
            for unit, shift in shifts.items():
                logits[:, :, unit] += shift
            return logits
        activate = ACTIVATIONS[net.activation]
        changed = {u: activate(self.pre[layer][:, u] + shift) - self.hidden[layer][:, u]
                   for u, shift in shifts.items()}
        pre = self.buffers[layer + 1][:c]
        units, coef = list(changed), self.layers[layer][0]
        if len(units) == 1:  # the rank-1 update, written into the buffer: no temporary
            np.multiply(changed[units[0]][:, :, None], coef[units[0], :], out=pre)
        else:  # rank 2
            np.matmul(np.stack([changed[u] for u in units], axis=-1), coef[units, :], out=pre)
        pre += self.pre[layer + 1]
        below = None  # layer k's recomputed output, (c, n, width)
        for k in range(layer + 1, L + 1):  # pre: the pre-activation of layer k
            if high.layer == k:
                if high.source is None:
                    feed = 1.0
                elif below is None:  # layer k - 1 is the low weight's: its changed units
                    feed = self.hidden[layer][:, high.source] + changed.get(high.source, 0.0)
                else:
                    feed = below[:, :, high.source]
                pre[:, :, high.unit] += t[:, None] * feed
            if k == L:
                return pre
            below = activate_in_place(net.activation, pre)
            pre = self.buffers[k + 1][:c]
            np.matmul(below, self.layers[k][0], out=pre)
            pre += self.layers[k][1]
        raise AssertionError("unreachable: the loop returns at the output layer")

    def measures(self, s: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """{"loss"} (the data loss: structured.py adds sklearn's penalty), and a classifier's
        {"accuracy"}, of c cells."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self.score(self._logits(s, t))

    def rows(self, rows: range | None = None, progress: Progress | None = None):
        """Yield (first row, {"loss"[, "accuracy"]} of those rows) over `rows` of the grid."""
        n_rows, n_cols = self.grid.shape
        rows = range(n_rows) if rows is None else rows
        s_low = self.offsets[self.plan.low.name]
        s_high = self.offsets[self.plan.high.name]
        done = 0
        for block in aligned_blocks(rows, n_rows):
            first_axis = np.repeat(np.arange(block.start, block.stop), n_cols)
            second_axis = np.tile(np.arange(n_cols), len(block))
            low_index, high_index = (first_axis, second_axis) if self.plan.low_first \
                else (second_axis, first_axis)
            s, t = s_low[low_index], s_high[high_index]
            values = {m: np.empty(len(s)) for m in self.names}
            for at in range(0, len(s), self.step):
                part = self.measures(s[at : at + self.step], t[at : at + self.step])
                for m, v in part.items():
                    values[m][at : at + len(v)] = v
            parts = {m: trimmed(block, v.reshape(len(block), n_cols), rows)
                     for m, v in values.items()}
            done += parts["loss"][1].size
            if progress:
                progress(done, len(rows) * n_cols)
            yield parts["loss"][0], {m: part[1] for m, part in parts.items()}
