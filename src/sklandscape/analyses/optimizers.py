"""First-order optimizers on a 2-D slice: gradient descent, heavy-ball momentum, Nesterov
and Adam, batched over learning rates and starting points, with analytic gradients.

An optimizer here is a loop over steps that calls `value_and_gradient(u)` on an array of
points (..., 2) and returns the whole path, so that one call of the (batched) gradient
serves every learning rate and every start at once. A point whose loss or step stops
being finite is frozen there and reported as diverged, not dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

GradientFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

METHODS = ("gd", "momentum", "nesterov", "adam")
LABELS = {"gd": "gradient descent", "momentum": "heavy-ball momentum",
          "nesterov": "Nesterov momentum", "adam": "Adam"}
DEFAULTS = {"gd": {}, "momentum": {"beta": 0.9}, "nesterov": {"beta": 0.9},
            "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}}


@dataclass(frozen=True)
class Paths:
    """Iterates u[..., t, :] and their losses loss[..., t] for t = 0 (the start) ... steps."""

    points: np.ndarray  # (..., steps + 1, 2)
    loss: np.ndarray  # (..., steps + 1)
    diverged: np.ndarray  # (...,) bool


def run(method: str, value_and_gradient: GradientFn, starts: np.ndarray, learning_rates,
        steps: int, bounds=None, progress=None, **hyper) -> Paths:
    """Run `method` from every start (m, 2) with every learning rate (k,): paths (k, m, ...).

    bounds [(lo, hi), (lo, hi)]: every iterate is projected onto this box (clipped), the
    projected form of each method; None leaves the plane unbounded. progress(t) is called
    after every step t, if given.
    """
    if method not in METHODS:
        raise ValueError(f"unknown optimizer {method!r}; expected one of {list(METHODS)}")
    unknown = set(hyper) - set(DEFAULTS[method])
    if unknown:
        raise ValueError(f"optimizer {method!r} has no setting(s) {sorted(unknown)}; "
                         f"it takes {sorted(DEFAULTS[method]) or 'none'}")
    settings = DEFAULTS[method] | hyper
    lr = np.asarray(learning_rates, dtype=np.float64).reshape(-1, 1, 1)
    project = _projection(bounds)
    u = project(np.broadcast_to(np.asarray(starts, dtype=np.float64),
                                (lr.shape[0], len(starts), 2)).copy())
    points = np.empty((*u.shape[:2], steps + 1, 2))
    losses = np.empty((*u.shape[:2], steps + 1))
    live = np.ones(u.shape[:2], dtype=bool)
    state = {"previous": u.copy(), "m": np.zeros_like(u), "s": np.zeros_like(u)}
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            loss, grad = value_and_gradient(u)
            # A point becomes non-finite once; it stays where it was last finite.
            bad = live & ~(np.isfinite(loss) & np.all(np.isfinite(grad), axis=-1))
            if bad.any():
                live &= ~bad
                if t:  # a start that is already non-finite stays as it is
                    u[bad], loss[bad] = points[bad, t - 1], losses[bad, t - 1]
                grad[bad] = 0.0
            points[:, :, t], losses[:, :, t] = u, loss
            if progress is not None:
                progress(t)
            if t == steps:
                break
            proposal = _STEPS[method](state, u, grad, lr, t + 1, settings, value_and_gradient)
            state["previous"] = u
            u = np.where(live[..., None], project(proposal), u)
    return Paths(points, losses, ~live)


def _projection(bounds):
    if bounds is None:
        return lambda u: u
    lows, highs = np.asarray(bounds, dtype=np.float64).T
    return lambda u: np.clip(u, lows, highs)


# Each method proposes the next iterate from u_t, its gradient and its state. The momentum
# methods are written with the displacement u_t - u_(t-1) in place of a velocity: the same
# iterates without bounds, and the usual projected forms with them.


def _gd(state, u, grad, lr, t, settings, value_and_gradient):
    return u - lr * grad


def _momentum(state, u, grad, lr, t, settings, value_and_gradient):
    # Polyak's heavy ball: u + beta (u - u_prev) - lr grad(u).
    return u + settings["beta"] * (u - state["previous"]) - lr * grad


def _nesterov(state, u, grad, lr, t, settings, value_and_gradient):
    # Sutskever et al. (2013): the gradient is taken at the look-ahead point.
    ahead = u + settings["beta"] * (u - state["previous"])
    _, ahead_grad = value_and_gradient(ahead)
    return ahead - lr * np.nan_to_num(ahead_grad)


def _adam(state, u, grad, lr, t, settings, value_and_gradient):
    # Kingma & Ba (2015), with bias correction; t counts from 1.
    b1, b2 = settings["beta1"], settings["beta2"]
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["s"] = b2 * state["s"] + (1 - b2) * grad**2
    m_hat, s_hat = state["m"] / (1 - b1**t), state["s"] / (1 - b2**t)
    return u - lr * m_hat / (np.sqrt(s_hat) + settings["eps"])


_STEPS = {"gd": _gd, "momentum": _momentum, "nesterov": _nesterov, "adam": _adam}


def steps_to_epsilon(loss: np.ndarray, minimum: float, epsilon: float) -> np.ndarray:
    """First step t from which the loss stays within epsilon of the minimum until the end.

    loss: (..., steps + 1). "Stays" matters for momentum methods, which can pass through
    the epsilon band and leave it again. NaN where the last iterate is still outside.
    """
    inside = (loss - minimum) <= epsilon
    stays = np.logical_and.accumulate(inside[..., ::-1], axis=-1)[..., ::-1]
    first = np.argmax(stays, axis=-1).astype(np.float64)
    return np.where(stays[..., -1], first, np.nan)


def worst_case(steps: np.ndarray) -> float:
    """Steps of the slowest start; NaN if any start never stays within epsilon."""
    return float(np.max(steps)) if np.all(np.isfinite(steps)) else math.nan


def best_rate(steps: np.ndarray) -> int:
    """Index of the rate that reaches epsilon from most starts, then in fewest worst-case steps."""
    reached = np.isfinite(steps).sum(axis=1)
    worst = np.where(np.isfinite(steps), steps, -1).max(axis=1)
    total = np.where(np.isfinite(steps), steps, 0).sum(axis=1)
    # lexsort: last key is primary. Fewer unreached, then smaller worst case, then total.
    return int(np.lexsort((total, worst, -reached))[0])


SHORT = {"gd": "GD", "momentum": "heavy ball", "nesterov": "Nesterov", "adam": "Adam"}


def momentum_verdict(worst_steps: dict[str, float], distances: dict[str, float],
                     max_steps: int) -> str:
    """Does momentum beat plain gradient descent here? One sentence, then the numbers.

    worst_steps: per method, steps to epsilon of its slowest start at its best rate (NaN:
    some start never stays within epsilon). distances: per method, the largest distance
    from the slice's minimum after the last step; NaN when the minimum is not isolated.
    """
    momentum = [m for m in ("momentum", "nesterov") if m in worst_steps]
    details = "; ".join(
        f"{SHORT.get(m, m)} {'-' if math.isnan(v) else f'{v:.0f}'}" for m, v in worst_steps.items())
    details = f"steps to epsilon (slowest start, best rate; - = not within {max_steps}): {details}."
    if distances and not any(math.isnan(d) for d in distances.values()):
        details += (f" Distance from the minimum after {max_steps} steps (farthest start): "
                    + ", ".join(f"{SHORT.get(m, m)} {d:.2g}" for m, d in distances.items()))
    else:
        details += " The minimum is not isolated (a valley of equal minima): no distance to it."
    if "gd" not in worst_steps or not momentum:
        return f"not compared (the config needs gd and momentum or nesterov). {details}"
    gd = worst_steps["gd"]
    fastest = min(momentum, key=lambda m: _sortable(worst_steps[m]))
    mom, name = worst_steps[fastest], LABELS[fastest]
    if math.isnan(gd) and math.isnan(mom):
        head = "neither plain GD nor momentum gets within epsilon from every start"
    elif math.isnan(gd):
        head = f"momentum needed: {name} gets within epsilon, plain GD does not"
    elif math.isnan(mom):
        head = "momentum not needed: plain GD gets within epsilon, momentum does not"
    elif gd / max(mom, 1.0) >= 1.25:
        head = f"momentum helps: {name} needs {gd / max(mom, 1.0):.1f}x fewer steps than plain GD"
    elif gd / max(mom, 1.0) <= 0.8:
        head = f"momentum does not help: plain GD needs fewer steps than {name}"
    else:
        head = f"no clear difference between plain GD and {name}"
    return f"{head}. {details}"


def _sortable(value: float) -> float:
    return math.inf if math.isnan(value) else value
