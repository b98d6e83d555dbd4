"""Fitting an MLPRegressor or MLPClassifier from config values (behind a fitted input
scaler where asked), with its convergence made visible."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from sklandscape.model.trajectory import Trajectory, record_fit

# The config keys that become MLPRegressor arguments, and nothing else.
ESTIMATOR_KEYS = (  # the others (estimator, scaling, holdout) choose what is around them
    "hidden_layer_sizes", "activation", "solver", "alpha", "max_iter", "tol", "random_state",
    "learning_rate_init", "batch_size",
)


@dataclass
class FitResult:
    model: object  # the MLP, or a Pipeline of the scaler and the MLP
    scores: dict[str, float]  # regressor: mse, r2; classifier: log_loss, accuracy
    n_iter: int
    converged: bool
    warnings: list[str] = field(default_factory=list)
    trajectory: Trajectory | None = None  # when recorded: initial weights and every iterate
    saturation: str = ""  # a warning that most hidden units sit where they are flat

    @property
    def mlp(self):
        steps = getattr(self.model, "steps", None)
        return steps[-1][1] if steps else self.model

    def metrics(self) -> dict[str, float]:
        return {"final_loss": float(self.mlp.loss_), **self.scores, "n_iter": self.n_iter,
                "converged": float(self.converged)}

    def summary(self) -> str:
        return ", ".join(f"{k}={v:.4g}" for k, v in self.scores.items())


SCALERS = {"standard": "StandardScaler", "minmax": "MinMaxScaler"}


# Settings that only stochastic solvers read: lbfgs ignores them.
STOCHASTIC_ONLY = ("learning_rate_init", "batch_size")


def solver_settings(settings: dict) -> dict:
    """The settings the chosen solver reads (what a run should show): lbfgs without the
    stochastic solvers' learning rate and batch size."""
    if settings.get("solver", "adam") != "lbfgs":
        return dict(settings)
    return {k: v for k, v in settings.items() if k not in STOCHASTIC_ONLY}


def estimator_arguments(settings: dict) -> dict:
    args = {k: settings[k] for k in ESTIMATOR_KEYS if settings.get(k) is not None}
    args["hidden_layer_sizes"] = tuple(args["hidden_layer_sizes"])
    return args


def fit_mlp(X: np.ndarray, y: np.ndarray, settings: dict, record: bool = False,
            progress=None) -> FitResult:
    """Fit an MLPRegressor or MLPClassifier (`estimator`), behind a StandardScaler or
    MinMaxScaler fitted on the same rows (`scaling`); a ConvergenceWarning is kept and
    reported, not silenced.

    With `record`, the same fit also records its path (sklandscape.model.trajectory): the fitted
    weights are bit-identical either way. progress(iteration, max_iter) is called after every
    iteration (epoch for sgd and adam), if given.
    """
    import sklearn.preprocessing
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import Pipeline

    classifier = settings.get("estimator", "regressor") == "classifier"
    # keyword arguments only: in scikit-learn 1.9 the first positional one is `loss`.
    mlp = (MLPClassifier if classifier else MLPRegressor)(**estimator_arguments(settings))
    scaling = settings.get("scaling") or "none"
    scaler = None
    inputs = X
    if scaling != "none":
        scaler = getattr(sklearn.preprocessing, SCALERS[scaling])().fit(X)
        inputs = scaler.transform(X)
    trajectory = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        report = None if progress is None else (lambda k: progress(k, mlp.max_iter))
        if record or report is not None:
            trajectory = record_fit(mlp, inputs, y, report, keep=record)
        else:
            mlp.fit(inputs, y)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    for other in caught:
        if not issubclass(other.category, ConvergenceWarning):
            warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    model = mlp if scaler is None else Pipeline([("scale", scaler), ("mlp", mlp)])
    return FitResult(model, _scores(model, X, y, classifier), int(mlp.n_iter_), not messages,
                     messages, trajectory)


def scores(model, X, y) -> dict[str, float]:
    """A fitted model's scores on X, y: log_loss and accuracy, or mse and r2."""
    return _scores(model, X, y, hasattr(model, "predict_proba"))


def _scores(model, X, y, classifier: bool) -> dict[str, float]:
    if classifier:
        from sklearn.metrics import log_loss

        return {"log_loss": float(log_loss(y, model.predict_proba(X))),
                "accuracy": float(np.mean(model.predict(X) == y))}
    residual = model.predict(X) - y
    mse = float(np.mean(residual**2))
    variance = float(np.mean((y - y.mean()) ** 2))
    return {"mse": mse, "r2": 1.0 - mse / variance if variance > 0 else float("nan")}
