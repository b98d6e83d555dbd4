"""Fitting an MLPRegressor from config values, with its convergence made visible."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from losscape.model.trajectory import Trajectory, record_fit

# The config keys that become MLPRegressor arguments, and nothing else.
ESTIMATOR_KEYS = (
    "hidden_layer_sizes", "activation", "solver", "alpha", "max_iter", "tol", "random_state",
    "learning_rate_init", "batch_size",
)


@dataclass
class FitResult:
    model: object
    mse: float
    r2: float
    n_iter: int
    converged: bool
    warnings: list[str] = field(default_factory=list)
    trajectory: Trajectory | None = None  # when recorded: initial weights and every iterate

    def metrics(self) -> dict[str, float]:
        return {
            "final_loss": float(self.model.loss_),
            "mse": self.mse,
            "r2": self.r2,
            "n_iter": self.n_iter,
            "converged": float(self.converged),
        }


def estimator_arguments(settings: dict) -> dict:
    args = {k: settings[k] for k in ESTIMATOR_KEYS if settings.get(k) is not None}
    args["hidden_layer_sizes"] = tuple(args["hidden_layer_sizes"])
    return args


def fit_mlp(X: np.ndarray, y: np.ndarray, settings: dict, record: bool = False) -> FitResult:
    """Fit an MLPRegressor; a ConvergenceWarning is kept and reported, not silenced.

    With `record`, the same fit also records its path (losscape.model.trajectory): the fitted
    weights are bit-identical either way.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    # keyword arguments only: in scikit-learn 1.9 the first positional one is `loss`.
    model = MLPRegressor(**estimator_arguments(settings))
    trajectory = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        if record:
            trajectory = record_fit(model, X, y)
        else:
            model.fit(X, y)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    for other in caught:
        if not issubclass(other.category, ConvergenceWarning):
            warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    prediction = model.predict(X)
    residual = prediction - y
    mse = float(np.mean(residual**2))
    variance = float(np.mean((y - y.mean()) ** 2))
    r2 = 1.0 - mse / variance if variance > 0 else float("nan")
    return FitResult(model, mse, r2, int(model.n_iter_), not messages, messages, trajectory)
