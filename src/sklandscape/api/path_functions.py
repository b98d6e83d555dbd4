"""The public functions of a training path: `fit` records one, `interpolation` and
`trajectory_pca` draw the landscape along it.

Every option is the config key of the same name, with the same default; each function runs
the same code as the pipeline's stage for that kind, single-threaded BLAS included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sklandscape import io
from sklandscape.api.directions import interpolation_result, trajectory_pca_result
from sklandscape.api.inputs import (
    alpha_of,
    heldout_of,
    inputs_of,
    model_label,
    network_of,
    running,
    scored,
)
from sklandscape.api.landscape_functions import Samples
from sklandscape.api.result import Result
from sklandscape.api.topology import DEFAULT_THRESHOLD, check_threshold, with_topology
from sklandscape.model.network import Network
from sklandscape.model.trajectory import Trajectory, record_fit
from sklandscape.options import check_n_jobs, check_options
from sklandscape.progress import ProgressLog


@dataclass(frozen=True)
class Fit:
    """A fitted estimator and the path its fit took (initial weights, every iterate)."""

    model: object
    trajectory: Trajectory
    validation: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def initial(self) -> Network:
        """The weights the fit started from, as a Network."""
        return network_of(self.model).with_flat(self.trajectory.initial)


def fit(estimator, X, y, *, progress: bool = True) -> Fit:
    """Fit an unfitted MLPRegressor or MLPClassifier, or a Pipeline ending in one, while
    recording the MLP's path, for `interpolation` and `trajectory_pca`.

    Parameters
    ----------
    estimator : MLPRegressor, MLPClassifier or a Pipeline ending in one, unfitted
        It is fitted in place, as ``estimator.fit(X, y)`` would fit it.
    X, y : array-like
        The training rows.
    progress : bool, default True
        A progress bar over the solver's iterations.

    Returns
    -------
    Fit
        ``.model`` (the fitted estimator), ``.trajectory`` (initial weights and every
        iterate), ``.initial`` (the starting weights as a Network) and ``.validation``
        (``early_stopping=True``: the rows scikit-learn held out, else None).

    Raises
    ------
    ValueError
        An estimator or option whose path cannot be recorded, named in scikit-learn's words.

    The fitted weights are bit-identical to a plain ``estimator.fit(X, y)``: a Pipeline's
    transformers are fitted first, as the Pipeline fits them. With ``early_stopping=True``,
    scikit-learn holds out ``validation_fraction`` of the rows and ends at the weights of its
    best validation epoch; the path ends there too, and ``Fit.validation`` holds those rows
    as ``(X_val, y_val)``, to pass as ``heldout=``.

    Examples
    --------
    >>> import numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.datasets import load_breast_cancer
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), MLPClassifier(
    ...     hidden_layer_sizes=(8,), early_stopping=True, max_iter=50, random_state=0))
    >>> path = sl.fit(model, X, y)
    >>> X_val, y_val = path.validation
    >>> len(y_val)  # validation_fraction=0.1 of 569 rows
    57
    >>> result = sl.interpolation(model, X, y, path, heldout=path.validation, resolution=11)
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    mlp = estimator.steps[-1][1] if getattr(estimator, "steps", None) else estimator
    with running(progress):
        # scikit-learn's fit, one bar step per iteration (it may converge before max_iter)
        log = ProgressLog(f"fit {type(mlp).__name__}", chunks=False, unit="iterations")
        max_iter = getattr(mlp, "max_iter", 0)
        trajectory = record_fit(estimator, X, y, lambda k: log(min(k, max_iter), max_iter))
    rows = trajectory.validation_rows
    return Fit(estimator, trajectory, None if rows is None else (X[rows], y[rows]))


def interpolation(model, X, y, initial, *, alpha_range: Sequence[float] = (-0.5, 1.5),
                  resolution: int = 201, samples: Samples = "all", heldout=None,
                  objective: str = "default", name: str = "interpolation",
                  network: str | None = None, n_jobs: int | None = None,
                  progress: bool = True) -> Result:
    """The loss along (1 - alpha)·initial + alpha·trained (Goodfellow et al. 2015).

    Parameters
    ----------
    model, X, y
        As for ``weights``: the trained end.
    initial : Fit, Network, fitted estimator or array of shape (n_weights,)
        The other end: a Fit's starting weights (``sl.fit``), or a network of the same shape,
        or a flat weight vector.
    alpha_range : [lo, hi], default (-0.5, 1.5)
        The alphas; 0 (initial) and 1 (trained) are exact.
    resolution : int, default 201
        Points along the line.
    samples, heldout, objective, name, network
        As for ``weights``.
    n_jobs : int, optional
        Worker processes over the points, as for ``random_plane``.
    progress : bool, default True
        A progress bar over the points.

    Returns
    -------
    Result
        ``.frame``: alpha, loss (and with `heldout`, loss_heldout).

    Raises
    ------
    OptionError, NotFittedError, TypeError, ValueError
        As for ``weights``: a refused option (named, before any work), an unfitted model, a
        model that is not an MLP (a search: pass its ``best_estimator_``), data that does not
        fit it.
        Also a ValueError when `initial` has other layer sizes than `model`.

    Examples
    --------
    >>> import numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPRegressor
    >>> X = np.linspace(-3, 3, 60)[:, None]; y = np.sin(X).ravel()
    >>> path = sl.fit(MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", solver="lbfgs",
    ...                            max_iter=200, random_state=0), X, y, progress=False)
    >>> result = sl.interpolation(path.model, X, y, path, resolution=5, progress=False)
    >>> result.frame["alpha"].tolist()
    [-0.5, 0.0, 0.5, 1.0, 1.5]
    >>> bool(result.frame["loss"][1] > result.frame["loss"][3])  # start above the end
    True
    """
    check_options("interpolation", resolution=resolution, alpha_range=alpha_range)
    check_n_jobs(n_jobs)
    net, X, y = inputs_of(model, X, y)
    net = scored(net, objective, alpha_of(model))
    start = _initial_network(initial, net)
    spec = {"network": model_label(model, network), "kind": "interpolation", "objective": objective,
            "alpha_range": [float(v) for v in alpha_range], "resolution": resolution, "samples": samples}
    with running(progress):
        return interpolation_result(start, net, X, y, spec, name, heldout_of(model, heldout),
                                    n_jobs=n_jobs)


def trajectory_pca(model, X, y, path, *, resolution: int = 41, margin: float = 0.25,
                   samples: Samples = "all", heldout=None, objective: str = "default",
                   topology: bool = True, topology_threshold: float = DEFAULT_THRESHOLD,
                   name: str = "trajectory_pca", network: str | None = None,
                   n_jobs: int | None = None, progress: bool = True) -> Result:
    """The loss on the plane of the two principal components of a training path, through the
    trained weights, with the path and each point's distance from the plane.

    Parameters
    ----------
    model, X, y
        As for ``weights``: the trained network, the path's end.
    path : Fit, Trajectory or array of shape (n_iterates, n_weights)
        The weights after every iterate (``sl.fit`` records them), ending at the trained ones.
    resolution : int, default 41
        Grid points per axis.
    margin : float, default 0.25
        The window extends beyond the path by this fraction of its extent on each side.
    samples, heldout, objective, topology, topology_threshold, name, network
        As for ``weights``.
    n_jobs : int, optional
        Worker processes over the points, as for ``random_plane``.
    progress : bool, default True
        A progress bar over the points.

    Returns
    -------
    Result
        Tables ``"landscape"`` (a, b, loss), ``"path"`` (each iterate's coordinates on the
        plane, its loss and its distance from the plane) and ``"topology"``.

    Raises
    ------
    OptionError, NotFittedError, TypeError, ValueError
        As for ``weights``: a refused option (named, before any work), an unfitted model, a
        model that is not an MLP (a search: pass its ``best_estimator_``), data that does not
        fit it.

    Examples
    --------
    >>> import numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPRegressor
    >>> X = np.linspace(-3, 3, 60)[:, None]; y = np.sin(X).ravel()
    >>> path = sl.fit(MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", solver="lbfgs",
    ...                            max_iter=200, random_state=0), X, y, progress=False)
    >>> result = sl.trajectory_pca(path.model, X, y, path, resolution=5, progress=False)
    >>> sorted(result.tables), len(result.frame)
    (['landscape', 'path', 'topology'], 25)
    """
    check_options("trajectory_pca", resolution=resolution, margin=margin)
    check_n_jobs(n_jobs)
    net, X, y = inputs_of(model, X, y)
    net = scored(net, objective, alpha_of(model))
    if isinstance(path, Fit):
        path = path.trajectory
    states = np.asarray(path.states if isinstance(path, Trajectory) else path, dtype=np.float64)
    spec = {"network": model_label(model, network), "kind": "trajectory_pca", "objective": objective,
            "resolution": resolution, "margin": margin, "samples": samples,
            "topology_threshold": check_threshold(topology_threshold)}
    solver = getattr(model.steps[-1][1] if getattr(model, "steps", None) else model, "solver", None)
    with running(progress):
        return with_topology(trajectory_pca_result(
            np.arange(len(states), dtype=np.int64), states, solver, net, X, y, spec, name,
            heldout_of(model, heldout), n_jobs=n_jobs), topology)


def _initial_network(initial, net: Network) -> Network:
    """The starting weights as the trained network scored the same way (objective, scaler)."""
    if isinstance(initial, Fit):
        other = initial.initial
    elif isinstance(initial, Network) or hasattr(initial, "coefs_"):
        other = network_of(initial)
    else:
        return net.with_flat(np.asarray(initial, dtype=np.float64))
    if other.layer_sizes != net.layer_sizes:
        raise ValueError(f"the initial weights' layer sizes {list(other.layer_sizes)} differ "
                         f"from the trained network's {list(net.layer_sizes)}")
    return net.with_flat(other.flat)


# What the pipeline's job calls (sklandscape.kinds: `result`): the path kinds read a second
# file of the network, checked against the weights before any work.

def interpolation_from_files(net: Network, X, y, spec: dict, name: str, *,
                             initial_weights_file, weights_file=None, **options) -> Result:
    """interpolation's Result from the network's initial_weights.parquet."""
    start = io.read_weights(initial_weights_file)
    if start.layer_sizes != net.layer_sizes:
        raise ValueError(f"{initial_weights_file}: layer sizes {list(start.layer_sizes)} differ "
                         f"from {weights_file}'s {list(net.layer_sizes)}")
    start = net.with_flat(start.flat)  # scored as the trained network is
    return interpolation_result(start, net, X, y, spec, name, weights_file=weights_file,
                                initial_weights_file=initial_weights_file, **options)


def trajectory_pca_from_files(net: Network, X, y, spec: dict, name: str, *, trajectory_file,
                              weights_file=None, **options) -> Result:
    """trajectory_pca's Result from the network's trajectory.parquet."""
    iterations, states, path_meta = io.read_trajectory(trajectory_file)
    if states.shape[1] != net.flat.size or not (states[-1] == net.flat).all():
        raise ValueError(f"{trajectory_file} does not end at the weights in {weights_file}: "
                         "the two files come from different trainings; retrain the network")
    return trajectory_pca_result(iterations, states, path_meta.get("solver"), net, X, y, spec,
                                 name, weights_file=weights_file, trajectory_file=trajectory_file,
                                 **options)
