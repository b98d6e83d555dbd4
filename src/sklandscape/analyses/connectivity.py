"""Mode connectivity: paths between two trained networks and the barriers on them.

- The linear path (1 - t)·a + t·b (Frankle et al. 2020), before and after aligning b's hidden
  units to a's (sklandscape.analyses.alignment).
- The quadratic Bézier curve (1 - t)²·a + 2t(1 - t)·c + t²·b (Garipov et al. 2018), from a to
  the aligned b, whose control point c minimises the mean loss along the curve. The mean is
  taken on `points` fixed, evenly spread t in (0, 1) (midpoints), so that the training is
  deterministic: L-BFGS with the exact gradient, Σ_t 2t(1 - t)·∇L(θ(t)) / points, started
  from the midpoint of the straight line (where the curve is that line).
- The barrier of a path (Frankle et al.): the largest excess of its loss over the straight
  line between its two ends' losses, max_t L(θ(t)) - ((1 - t)·L(a) + t·L(b)). It is never
  below 0 because the ends are on the path.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from sklandscape.model.gradients import loss_and_gradient
from sklandscape.model.network import Network

PATHS = ("linear", "aligned", "curve")
PATH_NAMES = {"linear": "linear path (before alignment)",
              "aligned": "linear path (after alignment)",
              "curve": "trained Bézier curve (after alignment)"}


def path_t(resolution: int) -> np.ndarray:
    """`resolution` evenly spaced t from 0 to 1, both ends exactly."""
    return np.linspace(0.0, 1.0, int(resolution))


def linear_points(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(len(t), P) weights on the straight line: exactly a at t = 0 and b at t = 1."""
    t = np.asarray(t, dtype=np.float64)[:, None]
    return (1.0 - t) * a + t * b


def bezier_points(a: np.ndarray, control: np.ndarray, b: np.ndarray, t: np.ndarray
                  ) -> np.ndarray:
    """(len(t), P) weights on the quadratic Bézier curve: exactly a at t = 0, b at t = 1."""
    t = np.asarray(t, dtype=np.float64)[:, None]
    return (1.0 - t) ** 2 * a + (2.0 * t * (1.0 - t)) * control + t**2 * b


def barrier(t: np.ndarray, loss: np.ndarray) -> float:
    """Frankle et al.'s barrier: max over the path of the loss above the ends' straight line
    (t runs from 0 to 1; nan if the path's loss is not finite somewhere)."""
    t, loss = np.asarray(t, dtype=np.float64), np.asarray(loss, dtype=np.float64)
    if not np.all(np.isfinite(loss)):
        return float("nan")
    return float(np.max(loss - ((1.0 - t) * loss[0] + t * loss[-1])))


def curve_t(points: int) -> np.ndarray:
    """The fixed t at which the curve's mean loss is taken: midpoints of `points` equal parts."""
    return (np.arange(points) + 0.5) / points


def train_control(net: Network, X: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray,
                  *, points: int = 16, max_iter: int = 200, progress=None
                  ) -> tuple[np.ndarray, dict]:
    """The control point minimising the mean loss along the curve from a to b, and what the
    training did (mean loss at the start and the end, iterations, function evaluations)."""
    t = curve_t(points)
    weight = (2.0 * t * (1.0 - t))[:, None] / points
    ends = (1.0 - t)[:, None] ** 2 * a + (t**2)[:, None] * b  # the part c does not move
    calls = [0]

    def objective(control):
        flats = ends + (points * weight) * control
        losses, gradients = loss_and_gradient(net, flats, X, y)
        calls[0] += 1
        if progress is not None:
            progress(min(calls[0], max_iter), max_iter)
        value = float(np.mean(losses))
        if not np.isfinite(value):
            return np.inf, np.zeros_like(control)
        return value, (weight * gradients).sum(axis=0)

    start = 0.5 * (a + b)
    first = objective(start)[0]
    found = minimize(objective, start, jac=True, method="L-BFGS-B",
                     options={"maxiter": int(max_iter), "maxfun": 2 * int(max_iter)})
    if progress is not None:
        progress(max_iter, max_iter)
    return found.x, {"curve_mean_loss_start": first, "curve_mean_loss": float(found.fun),
                     "curve_iterations": int(found.nit), "curve_evaluations": calls[0]}


def plane_basis(a: np.ndarray, b: np.ndarray, control: np.ndarray, fallback: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal (e1, e2) of the plane through a, b and the control point: e1 along b - a,
    e2 the rest of control - a. Where the control point lies on the line, e2 is taken from
    `fallback` - a instead (the unaligned end)."""
    line = b - a
    length = np.linalg.norm(line)
    if not length > 0:
        raise ValueError("the two networks have the same weights: no path to map")
    e1 = line / length
    for candidate in (control - a, fallback - a):
        rest = candidate - (candidate @ e1) * e1
        norm = np.linalg.norm(rest)
        if norm > 1e-9 * length:
            return e1, rest / norm
    # all on one line: any direction orthogonal to it
    e2 = np.zeros_like(a)
    e2[int(np.argmin(np.abs(e1)))] = 1.0
    e2 -= (e2 @ e1) * e1
    return e1, e2 / np.linalg.norm(e2)


def plane_coordinates(points: np.ndarray, origin: np.ndarray, basis) -> tuple:
    """(x, y, off) of weight vectors in the plane's coordinates, with their distance from it."""
    e1, e2 = basis
    offset = np.atleast_2d(points) - origin
    x, y = offset @ e1, offset @ e2
    off = np.linalg.norm(offset - x[:, None] * e1 - y[:, None] * e2, axis=1)
    return x, y, off


def plane_window(xs: np.ndarray, ys: np.ndarray, margin: float, resolution: int):
    """Axis values covering the points with `margin` × their extent on every side (square
    cells: the same step on both axes is not needed, but the same margin is)."""
    extent = max(np.ptp(xs), np.ptp(ys))
    pad = margin * extent
    return (np.linspace(xs.min() - pad, xs.max() + pad, resolution),
            np.linspace(ys.min() - pad, ys.max() + pad, resolution))
