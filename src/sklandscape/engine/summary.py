"""A landscape's summary (min, max, where they are, non-finite count), kept while rows stream by."""

from __future__ import annotations

import math

import numpy as np


class RunningSummary:
    """Update with consecutive pieces of a table; the result equals that of the whole table.

    Ties go to the first cell in table order, as np.argmin/np.argmax would choose.
    """

    def __init__(self, axes: tuple[str, str], column: str = "loss"):
        self.axes, self.column = tuple(axes), column
        self.n_points = self.n_nonfinite = 0
        self.low = self.high = None  # (value, {axis: coordinate})

    def update(self, columns: dict[str, np.ndarray]) -> None:
        values = np.asarray(columns[self.column])
        finite = np.isfinite(values)
        self.n_points += int(values.size)
        self.n_nonfinite += int(values.size - np.count_nonzero(finite))
        if not finite.any():
            return
        at_min = int(np.argmin(np.where(finite, values, np.inf)))
        at_max = int(np.argmax(np.where(finite, values, -np.inf)))
        if self.low is None or values[at_min] < self.low[0]:
            self.low = (float(values[at_min]), {a: float(columns[a][at_min]) for a in self.axes})
        if self.high is None or values[at_max] > self.high[0]:
            self.high = (float(values[at_max]), {a: float(columns[a][at_max]) for a in self.axes})

    def result(self) -> dict[str, float]:
        stats = {"n_points": self.n_points, "n_nonfinite": self.n_nonfinite}
        if self.low is None:
            return stats | {"loss_min": math.nan, "loss_max": math.nan}
        stats |= {"loss_min": self.low[0], "loss_max": self.high[0]}
        for axis in self.axes:
            stats[f"argmin_{axis}"] = self.low[1][axis]
            stats[f"argmax_{axis}"] = self.high[1][axis]
        return stats
