"""Curvature-free numbers that describe one 2-D loss slice, so slices can be compared.

Used for every pair of a `weight_pairs` landscape and for every seed of a `random_plane`
landscape: sorting or spreading these numbers says which slice is steep, flat, elongated
or hides a lower loss than the trained point.
"""

from __future__ import annotations

import math

import numpy as np


def statistics_columns(x: str = "x", y: str = "y") -> list[str]:
    """The columns of a statistics table, in order, for axes named `x` and `y`."""
    return [
        f"{x}_centre", f"{y}_centre", "loss_centre", "loss_min", f"argmin_{x}", f"argmin_{y}",
        "loss_max", "loss_range", "loss_mean", "loss_median", "drop", "min_at_centre",
        f"range_{x}", f"range_{y}", "anisotropy", "n_nonfinite",
    ]


def slice_statistics(first: np.ndarray, second: np.ndarray, loss: np.ndarray,
                     centre: tuple[float, float], loss_centre: float,
                     axis_names: tuple[str, str] = ("x", "y")) -> dict[str, float]:
    """Statistics of `loss` (shape (len(first), len(second))) around the point `centre`.

    - drop: loss_centre - loss_min, how much moving these two coordinates alone can gain;
    Keys follow `statistics_columns(*axis_names)`; with the default names:
    - range_x / range_y: max - min of the loss along the grid line through the centre
      parallel to each axis (the 1-D cuts);
    - anisotropy: the larger of the two ranges over the smaller (>= 1; inf if the loss
      does not change along one axis at all).
    """
    first, second = np.asarray(first, float), np.asarray(second, float)
    loss = np.asarray(loss, float)
    if loss.shape != (first.size, second.size):
        raise ValueError(f"loss has shape {loss.shape}, the axes {first.size} x {second.size}")
    finite = np.isfinite(loss)
    i0 = int(np.argmin(np.abs(first - centre[0])))
    j0 = int(np.argmin(np.abs(second - centre[1])))
    x, y = axis_names
    columns = statistics_columns(x, y)
    stats = {f"{x}_centre": float(centre[0]), f"{y}_centre": float(centre[1]),
             "loss_centre": float(loss_centre), "n_nonfinite": int((~finite).sum())}
    if not finite.any():
        return stats | {k: math.nan for k in columns if k not in stats}
    values = loss[finite]
    i, j = np.unravel_index(np.argmin(np.where(finite, loss, np.inf)), loss.shape)
    range_x, range_y = _finite_range(loss[:, j0]), _finite_range(loss[i0, :])
    stats |= {
        "loss_min": float(loss[i, j]),
        f"argmin_{x}": float(first[i]),
        f"argmin_{y}": float(second[j]),
        "loss_max": float(values.max()),
        "loss_range": float(values.max() - values.min()),
        "loss_mean": float(values.mean()),
        "loss_median": float(np.median(values)),
        "drop": float(loss_centre - loss[i, j]),
        "min_at_centre": float((i, j) == (i0, j0)),
        f"range_{x}": range_x,
        f"range_{y}": range_y,
        "anisotropy": _ratio(max(range_x, range_y), min(range_x, range_y)),
    }
    return {k: stats[k] for k in columns}


def _finite_range(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.max() - values.min()) if values.size else math.nan


def _ratio(larger: float, smaller: float) -> float:
    if math.isnan(larger) or math.isnan(smaller):
        return math.nan
    if smaller == 0:
        return math.inf if larger > 0 else math.nan
    return larger / smaller
