"""Learning rates from curvature: the largest stable full-batch learning rate predicted from
the Hessian's top eigenvalue, checked with scikit-learn's own `sgd` solver.

Near a minimum, gradient descent on the quadratic model moves each eigen-direction by the
factor 1 - eta·λ per step, so it settles iff eta < 2/λ_max. Heavy-ball momentum β (the
update v <- β v - eta g, theta <- theta + v, scikit-learn's with nesterovs_momentum=False)
settles iff eta < 2(1 + β)/λ_max. λ_max is the Hessian's of what scikit-learn's solver
minimises: half the MSE (a classifier: the log-loss) plus 0.5·alpha·|coefs|²/n_samples.

The check starts scikit-learn's MLP at the trained weights plus a small random perturbation
and runs `max_iter` full-batch steps (batch_size = n_samples, no shuffling, constant rate) at
each rate. A run *escaped* when its excess over the trained loss grew past ten times the
excess it started with and its loss rose more than 10 % above where it started (the second
test keeps a run from weights that are not quite a minimum, which overshoots by a hair
while it still descends, from counting as leaving); it *diverged* when the loss or the
weights stopped being finite; else it *settled*. The measured limit lies between the largest rate that settled and the
smallest that did not; it is reported as their geometric mean.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd

from sklandscape.engine.workers import banded

DEFAULT_FACTORS = (0.5, 0.7, 0.8, 0.9, 0.95, 1.05, 1.1, 1.25, 1.5, 2.0)
ESCAPE = 10.0  # a run whose excess loss grows past ESCAPE x its start left the minimum ...
RISE = 0.1  # ... if its loss also rose by more than this fraction above where it started


def predicted_limit(lambda_max: float, momentum: float) -> float:
    """The largest stable full-batch learning rate, 2(1 + β)/λ_max."""
    if not lambda_max > 0:
        raise ValueError(f"the Hessian's largest eigenvalue is {lambda_max!r}; a stability "
                         "limit needs a positive one (the weights are not near a minimum)")
    return 2.0 * (1.0 + momentum) / lambda_max


def _mlp_and_inputs(model, X):
    """The MLP of a fitted model (the last step of a Pipeline) and X as it sees it."""
    steps = getattr(model, "steps", None)
    if steps:
        from sklearn.pipeline import Pipeline

        return steps[-1][1], Pipeline(steps[:-1]).transform(X)
    return model, X


def sgd_run(model, X, y, start: list[np.ndarray], rate: float, momentum: float,
            max_iter: int) -> tuple[np.ndarray, str | None]:
    """scikit-learn's own full-batch sgd from the weights `start` (coefs then intercepts):
    its loss before each step (``loss_curve_``), and the error it stopped with, if any."""
    from sklearn.exceptions import ConvergenceWarning

    mlp, inputs = _mlp_and_inputs(model, X)
    runner = copy.deepcopy(mlp)
    runner.set_params(solver="sgd", batch_size=len(inputs), shuffle=False, momentum=momentum,
                      nesterovs_momentum=False, learning_rate="constant",
                      learning_rate_init=rate, max_iter=max_iter, warm_start=True,
                      early_stopping=False, tol=0.0, n_iter_no_change=max_iter + 1,
                      verbose=False)
    n = len(runner.coefs_)
    runner.coefs_ = [w.copy() for w in start[:n]]
    runner.intercepts_ = [b.copy() for b in start[n:]]
    # a fresh stochastic run from these weights (an lbfgs fit has none of these)
    runner.loss_curve_, runner.best_loss_, runner._no_improvement_count, runner.t_ = [], np.inf, 0, 0
    for name in ("_optimizer", "validation_scores_", "best_validation_score_"):
        if hasattr(runner, name):
            delattr(runner, name)
    stopped = None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            runner.fit(inputs, y)
        except ValueError as error:  # "Solver produced non-finite parameter weights"
            stopped = str(error)
    return np.asarray(runner.loss_curve_, dtype=np.float64), stopped


def outcome(curve: np.ndarray, trained_loss: float, stopped: str | None,
            escape: float = ESCAPE, rise: float = RISE) -> str:
    """settled, escaped or diverged (see the module's docstring)."""
    if stopped is not None or curve.size == 0 or not np.isfinite(curve).all():
        return "diverged"
    excess = curve - trained_loss
    start = max(excess[0], np.finfo(float).tiny)
    left = excess.max() > escape * start and curve.max() > (1 + rise) * curve[0]
    return "escaped" if left else "settled"


def measured_limit(rates: np.ndarray, outcomes: list[str]) -> tuple[float, float, float]:
    """(largest rate that settled below the first that did not, that first rate, their
    geometric mean); nan where the grid does not bracket the limit."""
    order = np.argsort(rates)
    rates = np.asarray(rates)[order]
    settled = np.array([outcomes[k] == "settled" for k in order])
    first_bad = int(np.argmin(settled)) if not settled.all() else len(rates)
    below = rates[first_bad - 1] if first_bad > 0 else np.nan
    above = rates[first_bad] if first_bad < len(rates) else np.nan
    return float(below), float(above), float(np.sqrt(below * above))


def stability_runs(model, X, y, lambda_max: float, trained_loss: float, *,
                   momenta=(0.0, 0.9), factors=DEFAULT_FACTORS, max_iter: int = 200,
                   perturbation: float = 1e-3, random_state: int = 0, n_jobs=None,
                   progress=None):
    """Every (momentum, rate) run: the per-iteration table, the per-rate table, the limits.

    The start is the trained weights plus `perturbation` x |weights| / sqrt(P) x a standard
    normal vector (one draw, `random_state`), the same for every run. The runs are
    independent: `n_jobs` spreads them over worker processes (the same bits in each).
    """
    mlp, _ = _mlp_and_inputs(model, X)
    trained = [*mlp.coefs_, *mlp.intercepts_]
    rng = np.random.default_rng(random_state)
    size = sum(w.size for w in trained)
    scale = perturbation * np.sqrt(sum(float((w**2).sum()) for w in trained) / size)
    start = [w + scale * rng.standard_normal(w.shape) for w in trained]
    runs = [(momentum, factor) for momentum in momenta for factor in factors]

    def compute(band: range, report):
        for k in band:
            momentum, factor = runs[k]
            yield sgd_run(model, X, y, start, factor * predicted_limit(lambda_max, momentum),
                          momentum, max_iter)
            if report is not None:
                report(k + 1, len(runs))

    found = iter(banded(compute, range(len(runs)), n_jobs, progress))
    curves, rows, limits = [], [], []
    for momentum in momenta:
        predicted = predicted_limit(lambda_max, momentum)
        outcomes = []
        for factor in factors:
            rate = factor * predicted
            curve, stopped = next(found)
            outcomes.append(outcome(curve, trained_loss, stopped))
            curves.append(pd.DataFrame({"momentum": momentum, "factor": factor,
                                        "learning_rate": rate,
                                        "iteration": np.arange(len(curve), dtype=np.int64),
                                        "loss": curve}))
            finite = curve[np.isfinite(curve)]
            rows.append({"momentum": momentum, "factor": factor, "learning_rate": rate,
                         "predicted_limit": predicted, "outcome": outcomes[-1],
                         "iterations": len(curve),
                         "loss_start": float(curve[0]) if curve.size else np.nan,
                         "loss_final": float(curve[-1]) if curve.size else np.nan,
                         "loss_max": float(finite.max()) if finite.size else np.nan})
        below, above, measured = measured_limit(np.asarray(factors) * predicted, outcomes)
        limits.append({"momentum": momentum, "predicted_limit": predicted,
                       "largest_settled": below, "smallest_unsettled": above,
                       "measured_limit": measured, "ratio": measured / predicted})
    return pd.concat(curves, ignore_index=True), pd.DataFrame(rows), pd.DataFrame(limits)
