"""The learning_rates analysis: the largest stable full-batch learning rate predicted from the
Hessian's top eigenvalue, checked with scikit-learn's own sgd solver
(sklandscape.analyses.learning_rates)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sklandscape.analyses.learning_rates import DEFAULT_FACTORS, stability_runs
from sklandscape.analyses.spectrum import HessianOperator, extreme_eigenpairs
from sklandscape.api.inputs import alpha_of, inputs_of, model_label, running
from sklandscape.api.result import Result
from sklandscape.options import check_n_jobs, check_options
from sklandscape.progress import ProgressLog


def learning_rates(model, X, y, *, momenta: Sequence[float] = (0.0, 0.9),
                   factors: Sequence[float] = DEFAULT_FACTORS, max_iter: int = 200,
                   perturbation: float = 1e-3, random_state: int = 0,
                   name: str = "learning_rates", network: str | None = None,
                   n_jobs: int | None = None, progress: bool = True) -> Result:
    """Predict the largest stable full-batch learning rate from the Hessian's top eigenvalue,
    2(1 + β)/λ_max, and check it with scikit-learn's own sgd solver.

    Parameters
    ----------
    model : fitted MLPRegressor, MLPClassifier, or a Pipeline ending in one
        It must be the scikit-learn estimator: its own ``fit`` runs the check.
    X, y : the rows it was trained on
    momenta : sequence of float in [0, 1), default (0.0, 0.9)
        Heavy-ball momentum β of each check (0: plain gradient descent).
    factors : sequence of float, default (0.5, 0.7, 0.8, 0.9, 0.95, 1.05, 1.1, 1.25, 1.5, 2.0)
        The rates tried, as multiples of the predicted limit.
    max_iter : int, default 200
        Full-batch steps of each run.
    perturbation : float, default 1e-3
        The start: the trained weights plus this times their RMS times a standard normal
        vector (the same for every run).
    random_state : int, default 0
        Seed of that vector and of the Lanczos start.
    name, network : str
        The analysis' and the network's names.
    n_jobs : int, optional
        Worker processes for the runs (as in scikit-learn: None = 1, -1 = every core), each
        with one BLAS thread; the tables are the same bits for every n_jobs.
    progress : bool, default True
        A progress bar over the runs.

    Returns
    -------
    Result
        Tables ``"rates"`` (one row per run: momentum, factor, learning_rate, outcome
        settled/escaped/diverged, losses), ``"curves"`` (the loss before every step) and
        ``"limits"`` (per momentum: predicted and measured limits, their ratio); metrics
        ``lambda_max`` and, per momentum β, ``predicted_limit_momentum_β``,
        ``measured_limit_momentum_β`` and ``ratio_momentum_β``; figure ``"learning_rates"``.

    Raises
    ------
    OptionError
        An option its rule refuses (``momenta: 1.0 is greater than or equal to the maximum
        of 1``), named with its value, before any work.
    ValueError
        `model` is not the scikit-learn estimator itself (its own sgd runs the check).

    Examples
    --------
    >>> import numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPRegressor
    >>> X = np.linspace(-3, 3, 100)[:, None]; y = np.sin(X).ravel()
    >>> model = MLPRegressor(hidden_layer_sizes=(2,), activation="tanh", solver="lbfgs",
    ...                      max_iter=5000, random_state=0).fit(X, y)
    >>> result = sl.learning_rates(model, X, y, momenta=[0.0])
    >>> 0.9 < result.metrics["ratio_momentum_0"] < 1.1
    True
    """
    check_options("learning_rates", momenta=momenta, factors=factors, max_iter=max_iter,
                  perturbation=perturbation, random_state=random_state)
    check_n_jobs(n_jobs)
    if not hasattr(model, "coefs_") and not getattr(model, "steps", None):
        raise ValueError("learning_rates needs the fitted scikit-learn estimator itself (its "
                         f"own sgd solver runs the check), not a {type(model).__name__}")
    net, X_net, y_net = inputs_of(model, X, y)
    sklearn_loss = net.with_objective("sklearn", alpha_of(model))
    with running(progress):
        top = extreme_eigenpairs(HessianOperator(sklearn_loss, X_net, y_net, n_jobs=n_jobs), 1,
                                 seed=random_state)
        lambda_max = float(top.values[-1])
        trained_loss = sklearn_loss.loss(X_net, y_net)
        curves, rates, limits = stability_runs(
            model, np.asarray(X), np.asarray(y), lambda_max, trained_loss,
            momenta=[float(m) for m in momenta], factors=[float(f) for f in factors],
            max_iter=int(max_iter), perturbation=float(perturbation),
            random_state=int(random_state), n_jobs=n_jobs, progress=ProgressLog(f"learning_rates {name}"))
    metadata = {"analysis": {"kind": "learning_rates", "momenta": [float(m) for m in momenta],
                             "factors": [float(f) for f in factors], "max_iter": int(max_iter),
                             "perturbation": float(perturbation),
                             "random_state": int(random_state)},
                "network": {"name": model_label(model, network),
                            "layer_sizes": list(net.layer_sizes)},
                "lambda_max": lambda_max, "trained_loss": trained_loss,
                "n_samples": len(y_net)}
    metrics = {"lambda_max": lambda_max}
    for row in limits.itertuples():
        key = f"momentum_{row.momentum:g}"
        metrics[f"predicted_limit_{key}"] = row.predicted_limit
        for what in ("measured_limit", "ratio"):
            value = getattr(row, what)
            if np.isfinite(value):
                metrics[f"{what}_{key}"] = float(value)
    title = (f"{name}: full-batch sgd (scikit-learn's own solver) of {metadata['network']['name']}"
             f" from its trained weights plus a {perturbation:g} perturbation, at multiples of "
             f"the predicted stable limit 2(1+β)/λ_max (λ_max = {lambda_max:.4g})")

    def figure():
        from sklandscape.figures.learning_rates import learning_rates_figure

        return learning_rates_figure(curves, rates, limits, trained_loss, title=title)

    return Result("learning_rates", name,
                  {"rates": rates, "curves": curves, "limits": limits},
                  {"rates": metadata, "curves": metadata, "limits": metadata}, metrics,
                  figures={"learning_rates": figure}, captions={"rates": title})
