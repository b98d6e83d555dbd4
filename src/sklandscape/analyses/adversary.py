"""The input-space loss as an adversary sees it: where the error is high, which way it rises,
and how far a few gradient-ascent steps from the data can push it.

The loss here is the quantity of the input landscape (the article's fig. 4): for a
regressor the squared error (f(x) - g(x))^2 against the target g, whose gradient is
2 (f - g) (grad f - grad g); for a classifier the log-loss -log p_c(x) of the target class c.
The network's part comes by backprop (sklandscape.model.gradients); a generating function brings
its own analytic gradient (sklandscape.data.datasets.GRADIENTS); a target taken from the data
(the nearest point's y or class, or a start's own) is constant where it is used.

Only the given `features` move (the two of the map); the others keep each point's values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sklandscape.engine.landscape import InputPlane
from sklandscape.model.gradients import sample_loss_input_gradient
from sklandscape.model.network import Network

Target = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class InputLoss:
    """The loss of `net` against `target` at each input: the squared error (regressor) or
    the log-loss of the target class (classifier)."""

    net: Network
    target: Target
    target_gradient: Target | None = None  # None: the target is constant where it is used
    features: tuple[int, ...] | None = None  # the inputs that move (default: all)

    def value(self, X: np.ndarray) -> np.ndarray:
        return self.value_and_gradient(X)[0]

    def value_and_gradient(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Loss (n,) and its gradient with respect to the input (n, d), zero on the inputs
        that do not move."""
        X = np.asarray(X, dtype=np.float64)
        target = self.target(X)
        value, grad = sample_loss_input_gradient(self.net, X, target)
        if self.target_gradient is not None and not self.net.is_classifier:
            with np.errstate(over="ignore", invalid="ignore"):
                residual = self.net.predict(X) - target
                grad = grad - 2.0 * residual[:, None] * self.target_gradient(X)
        if self.features is not None:
            keep = np.zeros(X.shape[1], dtype=bool)
            keep[list(self.features)] = True
            grad = np.where(keep, grad, 0.0)
        return value, grad


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
                    radius: float, bounds=None, progress=None) -> Ascent:
    """Normalised gradient-ascent steps of length `step_size` from each start.

    Each iterate is projected back onto the ball of `radius` around its start (an
    adversary's budget: a perturbation, not a new input) and onto `bounds`
    [(lo, hi), ...] per feature if given. A point whose gradient vanishes stays put.
    The best iterate is kept, so the reported gain is never negative. progress(t, steps)
    is called after every step, if given.
    """
    starts = np.asarray(starts, dtype=np.float64)
    x = starts.copy()
    path = np.empty((steps + 1, *starts.shape))
    values = np.empty((steps + 1, len(starts)))
    for t in range(steps + 1):
        value, grad = loss.value_and_gradient(x)
        path[t], values[t] = x, value
        if progress is not None:
            progress(t, steps)
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
        # bounds: {feature: (lo, hi)}, or a list of (lo, hi) for the first features
        items = bounds.items() if isinstance(bounds, dict) else enumerate(bounds)
        for k, (lo, hi) in items:
            if k < x.shape[1]:
                x[:, k] = np.clip(x[:, k], lo, hi)
    return x


def gradient_field(loss: InputLoss, first: np.ndarray, second: np.ndarray,
                   plane: InputPlane | None = None) -> pd.DataFrame:
    """Loss and its input gradient on a regular grid of the plane's two features (first axis
    slowest), the others at the plane's reference: for arrows."""
    plane = plane or InputPlane.first_two(2)
    mesh = np.meshgrid(first, second, indexing="ij")
    points = np.stack([m.ravel() for m in mesh], axis=1)
    value, grad = loss.value_and_gradient(plane.embed(points))
    (a, b), (i, j) = plane.names, plane.features
    return pd.DataFrame({a: points[:, 0], b: points[:, 1], "loss": value,
                         f"grad_{a}": grad[:, i], f"grad_{b}": grad[:, j]})
