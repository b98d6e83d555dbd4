"""The input-space loss as an adversary sees it: where the error is high, which way it rises,
and how far a few gradient-ascent steps from the data can push it.

The loss here is the quantity of the article's fig. 4 (the input landscape): the squared
error (f(x) - g(x))^2 of the network f against the generating function g, at any input x.
Its gradient is 2 (f - g) (grad f - grad g): the network's part by backprop
(losscape.model.gradients), the target's part from the generating function's own analytic
gradient (losscape.data.datasets.GRADIENTS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from losscape.model.gradients import output_input_gradient
from losscape.model.network import Network

Target = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class InputLoss:
    """Squared error of `net` against the target function over the input space."""

    net: Network
    target: Target
    target_gradient: Target

    def value(self, X: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            return (self.net.predict(X) - self.target(X)) ** 2

    def value_and_gradient(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Loss (n,) and its gradient with respect to the input (n, d)."""
        X = np.asarray(X, dtype=np.float64)
        prediction, grad_prediction = output_input_gradient(self.net, X)
        with np.errstate(over="ignore", invalid="ignore"):
            residual = prediction - self.target(X)
            grad = 2.0 * residual[:, None] * (grad_prediction - self.target_gradient(X))
        return residual**2, grad


def worst_inputs(loss: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest finite losses, largest first (ties: lower index first)."""
    loss = np.asarray(loss, dtype=np.float64)
    finite = np.flatnonzero(np.isfinite(loss))
    # A stable sort of the negated loss keeps equal losses in index order.
    return finite[np.argsort(-loss[finite], kind="stable")[: max(int(k), 0)]]


@dataclass(frozen=True)
class Ascent:
    """Projected gradient ascent from each start: every iterate, and the best one found."""

    path: np.ndarray  # (steps + 1, n, d), path[0] = starts
    loss: np.ndarray  # (steps + 1, n)
    best: np.ndarray  # (n, d): the highest-error iterate of each path
    best_loss: np.ndarray  # (n,)

    @property
    def start_loss(self) -> np.ndarray:
        return self.loss[0]

    @property
    def gain(self) -> np.ndarray:
        return self.best_loss - self.start_loss


def gradient_ascent(loss: InputLoss, starts: np.ndarray, step_size: float, steps: int,
                    radius: float, bounds=None) -> Ascent:
    """Normalised gradient-ascent steps of length `step_size` from each start.

    Each iterate is projected back onto the ball of `radius` around its start (an
    adversary's budget: a perturbation, not a new input) and onto `bounds`
    [(lo, hi), ...] per feature if given. A point whose gradient vanishes stays put.
    The best iterate is kept, so the reported gain is never negative.
    """
    starts = np.asarray(starts, dtype=np.float64)
    x = starts.copy()
    path = np.empty((steps + 1, *starts.shape))
    values = np.empty((steps + 1, len(starts)))
    for t in range(steps + 1):
        value, grad = loss.value_and_gradient(x)
        path[t], values[t] = x, value
        if t == steps:
            break
        norm = np.linalg.norm(grad, axis=1, keepdims=True)
        direction = np.divide(grad, norm, out=np.zeros_like(grad), where=norm > 0)
        x = _project(x + step_size * direction, starts, radius, bounds)
    at = np.argmax(np.where(np.isfinite(values), values, -np.inf), axis=0)
    columns = np.arange(len(starts))
    return Ascent(path, values, path[at, columns], values[at, columns])


def _project(x: np.ndarray, centre: np.ndarray, radius: float, bounds) -> np.ndarray:
    offset = x - centre
    length = np.linalg.norm(offset, axis=1, keepdims=True)
    shrink = np.minimum(1.0, np.divide(radius, length, out=np.ones_like(length),
                                       where=length > 0))
    x = centre + offset * shrink
    if bounds is not None:
        lows, highs = np.array(bounds, dtype=np.float64).T
        x = np.clip(x, lows[: x.shape[1]], highs[: x.shape[1]])
    return x


def gradient_field(loss: InputLoss, first: np.ndarray, second: np.ndarray) -> pd.DataFrame:
    """Loss and its input gradient on a regular 2-D grid (first axis slowest): for arrows."""
    mesh = np.meshgrid(first, second, indexing="ij")
    points = np.stack([m.ravel() for m in mesh], axis=1)
    value, grad = loss.value_and_gradient(points)
    return pd.DataFrame({"x0": points[:, 0], "x1": points[:, 1], "loss": value,
                         "grad_x0": grad[:, 0], "grad_x1": grad[:, 1]})
