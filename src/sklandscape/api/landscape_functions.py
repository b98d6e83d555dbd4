"""The public landscape functions over weights, inputs and random directions: a fitted MLP
and its data in, a Result out (the path-based ones are in sklandscape.api.path_functions).

Every option is the config key of the same name, with the same default; each function runs
the same code as the pipeline's stage for that kind, single-threaded BLAS included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from sklandscape.api import grids
from sklandscape.api.directions import random_plane_result, weight_pairs_result
from sklandscape.api.inputs import (
    alpha_of,
    heldout_of,
    inputs_of,
    model_label,
    running,
    scored,
)
from sklandscape.api.plotting import grid_landscape_figure
from sklandscape.api.result import Result
from sklandscape.api.topology import (
    DEFAULT_THRESHOLD,
    check_threshold,
    with_topology,
)
from sklandscape.data.datasets import target_columns
from sklandscape.options import check_n_jobs, check_options

Samples = str | int | Sequence[int]


def _grid_result(stream: grids.GridStream, name: str, data: pd.DataFrame | None,
                 topology: bool) -> Result:
    frame, stats = grids.collect(stream)
    metadata = stream.metadata
    result = Result(stream.metadata["landscape"]["kind"], name, {"landscape": frame},
                    {"landscape": metadata}, stats,
                    figures={"landscape": lambda: grid_landscape_figure(frame, metadata, data, name)})
    return with_topology(result, topology)



def weights(model, X, y, axes: Sequence[str], *, span: float = 1.0, resolution: int = 51,
            samples: Samples = "all", heldout=None, objective: str = "default",
            topology: bool = True, topology_threshold: float = DEFAULT_THRESHOLD,
            name: str = "weights", network: str | None = None, n_jobs: int | None = None,
            progress: bool = True) -> Result:
    """The loss over two named weights, every other weight held at its trained value.

    Parameters
    ----------
    model : fitted MLPRegressor or sklandscape.Network
    X : array-like, shape (n_samples, n_features)
    y : array-like, shape (n_samples,)
    axes : two weight names, e.g. ``("W1[0,0]", "W2[0,0]")`` (``W{layer}[i,j]``, ``b{layer}[j]``;
        ``sl.Network.from_estimator(model).names`` lists them all).
    span : float, default 1.0
        Each axis covers [trained - span, trained + span], in the weight's own units.
    resolution : int, default 51
        Grid points per axis.
    samples : "all", an int or a list of ints, default "all"
        The data rows whose loss (mean squared error, or a classifier's mean log-loss) is
        averaged.
    heldout : (X, y), optional
        Data the network did not train on: every cell then also has ``loss_heldout`` (and a
        classifier's ``accuracy_heldout``), and the figure shows both maps.
    objective : "default" or "sklearn", default "default"
        "default": the MSE (a classifier: the log-loss). "sklearn": what scikit-learn
        minimises, half the MSE (the log-loss as it is) plus 0.5 * alpha * sum(coefs²) /
        n_samples with the model's own alpha.
    topology : bool, default True
        Also find the landscape's minima, saddles and maxima, their persistence and each
        cell's basin (``sklandscape.analyses.topology``): the table ``"topology"``, the
        ``topology_*`` metrics, ``result.topology`` and an overlay on the figure.
    topology_threshold : float, default 0.01
        Pairs of critical points whose persistence is at most this fraction of the loss
        range are ripples: not counted as significant, not marked, their basins merged.
    name, network : str
        The landscape's and the network's names, in the metadata and the figure's title.
    n_jobs : int, optional
        Worker processes over the grid's rows (joblib's: None = 1, -1 = every core), each
        with one BLAS thread; the table is the same bits for every n_jobs.
    progress : bool, default True
        A progress bar (cells done, time left) once the call has run a second: a widget in
        a notebook, a line on stderr in a terminal. Every function here takes it.

    Returns
    -------
    Result
        ``.frame``: one column per weight (its absolute value), then ``loss`` (the MSE,
        not sklearn's half-MSE), one row per grid point, the first axis slowest.

    Raises
    ------
    OptionError
        An option its rule refuses (the config schema's rule for the same key), named with
        its value, before any work.
    sklearn.exceptions.NotFittedError
        `model` is not fitted.
    TypeError
        `model` is not an MLP, a Pipeline ending in one or a Network (a search such as
        GridSearchCV: pass its ``best_estimator_``).
    ValueError
        X or y do not fit the model (shape, classes), or an MLP whose loss is not supported.

    Examples
    --------
    >>> import numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPRegressor
    >>> X = np.linspace(-3, 3, 60)[:, None]; y = np.sin(X).ravel()
    >>> model = MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", solver="lbfgs",
    ...                      max_iter=2000, random_state=0).fit(X, y)
    >>> result = sl.weights(model, X, y, axes=("W1[0,0]", "W2[0,0]"), span=0.5,
    ...                     resolution=5, progress=False)
    >>> result.frame.shape, list(result.frame.columns)
    ((25, 3), ['W1[0,0]', 'W2[0,0]', 'loss'])
    >>> int(result.frame["loss"].idxmin())  # the grid's centre, the trained weights
    12
    """
    check_options("weights", resolution=resolution, span=span, axes=axes)
    check_threshold(topology_threshold)
    check_n_jobs(n_jobs)
    net, X, y = inputs_of(model, X, y)
    net = scored(net, objective, alpha_of(model))
    spec = {"network": model_label(model, network), "kind": "weights", "objective": objective, "axes": list(axes),
            "span": span, "resolution": resolution, "samples": samples,
            "topology_threshold": topology_threshold}
    with running(progress):
        stream = grids.weights_stream(net, X, y, spec, None, heldout_of(model, heldout),
                                      n_jobs=n_jobs)
        return _grid_result(stream, name, None, topology)


def input_space(model, X, y, *, resolution: int = 101, margin: float = 0.5,
          target: Callable | str | None = None, domain=None,
          features: Sequence[int | str] | None = None, reference: str | int | None = None,
          topology: bool = True, topology_threshold: float = DEFAULT_THRESHOLD,
          name: str = "input_space", network: str | None = None, n_jobs: int | None = None,
          progress: bool = True) -> Result:
    """The loss over two input features, the weights fixed and any other feature held at a
    reference point.

    Parameters
    ----------
    features : two feature indices or names, default the first two
        The features that vary. Names are X's column names (a DataFrame) or the model's
        ``feature_names_in_``.
    reference : "median" or a row index, default "median"
        Where the other features are held: the data's median, or that data row's values.
    target : None, a function or a generating function's name, default None
        A regressor's prediction is compared with it at every grid point: None for y of the
        nearest data point; a function of an (m, n_features) array of inputs; or one of
        sklandscape's generating functions by name (``"sine"``, ``"waves_with_spike"``, …). A
        classifier is always scored against the class of the nearest data point.
    margin : float, default 0.5
        How far the grid extends beyond `domain` on each side, in the inputs' units.
    domain : one [lo, hi] per feature, optional
        The window before the margin; the data's range by default.
    topology, topology_threshold : bool, float, default True, 0.01
        As for ``weights``: the landscape's critical points, persistence and basins.

    Returns
    -------
    Result
        ``.frame``: the two features' columns (``x{i}``, ``x{j}``), then for a regressor
        target, prediction, loss (the squared error); for a classifier target (the class
        index), prediction (the class it predicts), probability (of the target class) and
        loss (its log-loss). One row per grid point.

    Raises
    ------
    OptionError
        An option its rule refuses (the config schema's rule for the same key), named with
        its value, before any work.
    sklearn.exceptions.NotFittedError
        `model` is not fitted.
    TypeError
        `model` is not an MLP, a Pipeline ending in one or a Network (a search such as
        GridSearchCV: pass its ``best_estimator_``).
    ValueError
        X or y do not fit the model (shape, classes), or an MLP whose loss is not supported.

    Examples
    --------
    >>> import numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, (80, 2)); y = np.sin(X[:, 0]) * X[:, 1]
    >>> model = MLPRegressor(hidden_layer_sizes=(6,), activation="tanh", solver="lbfgs",
    ...                      max_iter=2000, random_state=0).fit(X, y)
    >>> result = sl.input_space(model, X, y, resolution=9, margin=0.0, progress=False)
    >>> result.frame.shape, list(result.frame.columns)
    ((81, 5), ['x0', 'x1', 'target', 'prediction', 'loss'])
    """
    from sklandscape.data.datasets import generating_function

    check_options("input_space", resolution=resolution, margin=margin)
    check_threshold(topology_threshold)
    check_n_jobs(n_jobs)
    feature_names = _feature_names(model, X)
    net, X, y = inputs_of(model, X, y)
    if isinstance(target, str):
        target, described = generating_function(target), grids.TARGET_GENERATING.format(target)
    elif target is None:
        described = grids.TARGET_NEAREST
    else:
        described = getattr(target, "__name__", "a function of the inputs")
    spec = {"network": model_label(model, network), "kind": "input_space", "resolution": resolution,
            "margin": margin, "topology_threshold": topology_threshold}
    if features is not None:
        spec["features"] = list(features)
    if reference is not None:
        spec["reference"] = reference
    data = pd.DataFrame({**{f"x{k}": X[:, k] for k in range(X.shape[1])}, **target_columns(y)})
    with running(progress):
        return _grid_result(grids.input_stream(net, X, y, spec, target, described, domain,
                                               feature_names=feature_names, n_jobs=n_jobs),
                            name, data,
                            topology)


def _feature_names(model, X) -> list[str] | None:
    if isinstance(X, pd.DataFrame):
        return [str(c) for c in X.columns]
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def weight_pairs(model, X, y, axes: Sequence[str] | str = "all", *, span: float = 1.0,
                 resolution: int = 31, samples: Samples = "all", heldout=None,
                 objective: str = "default", topology: bool = True,
                 topology_threshold: float = DEFAULT_THRESHOLD, name: str = "weight_pairs",
                 network: str | None = None, n_jobs: int | None = None,
                 progress: bool = True) -> Result:
    """The loss over every pair of the listed weights (a corner plot), on the structured engine.

    Parameters
    ----------
    model, X, y
        As for ``weights``.
    axes : list of weight names or "all", default "all"
        The weights to pair; ``"all"`` pairs every weight (at most 25 fit a corner plot).
    span, resolution, samples, heldout, objective : as for ``weights``
        Each pair's two axes cover trained ± span; with `heldout` every cell also has
        ``loss_heldout``.
    topology, topology_threshold : bool, float, default True, 0.01
        As for ``weights``, per pair.
    name, network : str
        The landscape's and the network's names.
    n_jobs : int, optional
        Worker processes over each pair's rows (None = 1, -1 = every core); the same tables
        for every n_jobs.
    progress : bool, default True
        A progress bar over the cells of every pair.

    Returns
    -------
    Result
        Tables ``"landscape"`` (x_name, y_name, x, y, loss), ``"stats"`` (one row per pair:
        minimum, maximum, drop from the trained point, ranges along each axis, anisotropy)
        and ``"topology"`` (each pair's critical points).

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
    >>> model = MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", solver="lbfgs",
    ...                      max_iter=2000, random_state=0).fit(X, y)
    >>> result = sl.weight_pairs(model, X, y, axes=["W1[0,0]", "b1[0]", "W2[0,0]"],
    ...                          resolution=5, progress=False)
    >>> len(result.tables["stats"]), len(result.frame)  # 3 pairs of 5 x 5 cells
    (3, 75)
    """
    check_options("weight_pairs", resolution=resolution, span=span)
    check_n_jobs(n_jobs)
    net, X, y = inputs_of(model, X, y)
    net = scored(net, objective, alpha_of(model))
    spec = {"network": model_label(model, network), "kind": "weight_pairs", "objective": objective,
            "axes": axes if isinstance(axes, str) else list(axes), "span": span,
            "resolution": resolution, "samples": samples,
            "topology_threshold": check_threshold(topology_threshold)}
    with running(progress):
        return with_topology(weight_pairs_result(net, X, y, spec, name, heldout_of(model, heldout),
                                                  n_jobs=n_jobs),
                              topology)


def random_plane(model, X, y, *, seeds: Sequence[int] = (0,), span: float = 1.0,
                 resolution: int = 31, zero_biases: bool = True, samples: Samples = "all",
                 heldout=None, objective: str = "default", topology: bool = True,
                 topology_threshold: float = DEFAULT_THRESHOLD, name: str = "random_plane",
                 network: str | None = None, n_jobs: int | None = None, progress: bool = True) -> Result:
    """The loss over theta + a·d1 + b·d2, with filter-normalised Gaussian directions (Li et al.
    2018), one plane per seed; a and b run over [-span, span].

    Parameters
    ----------
    model, X, y
        As for ``weights``.
    seeds : list of int, default (0,)
        One plane per seed, each with its own two directions.
    span : float, default 1.0
        a and b run over [-span, span]; a direction is as long as the weights it moves
        (filter normalisation), so span 1 moves each filter by its own norm.
    resolution : int, default 31
        Grid points per axis.
    zero_biases : bool, default True
        The directions leave the biases alone (Li et al.'s choice).
    samples, heldout, objective, topology, topology_threshold, name, network
        As for ``weights``.
    n_jobs : int, optional
        Worker processes over each plane's points (as in scikit-learn: None = 1, -1 = every
        core); the tables are the same bits for every n_jobs.
    progress : bool, default True
        A progress bar over the points of every seed's plane.

    Returns
    -------
    Result
        Tables ``"landscape"`` (seed, a, b, loss), ``"directions"`` (seed, name, d1, d2),
        ``"stats"`` (one row per seed) and ``"topology"`` (each seed's critical points).
        Figures: ``"plane"`` and ``"seed_spread"``.

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
    >>> model = MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", solver="lbfgs",
    ...                      max_iter=2000, random_state=0).fit(X, y)
    >>> result = sl.random_plane(model, X, y, seeds=[0, 1], resolution=5, progress=False)
    >>> list(result.frame.columns), len(result.frame)
    (['seed', 'a', 'b', 'loss'], 50)
    """
    check_options("random_plane", resolution=resolution, span=span, seeds=seeds)
    check_n_jobs(n_jobs)
    net, X, y = inputs_of(model, X, y)
    net = scored(net, objective, alpha_of(model))
    spec = {"network": model_label(model, network), "kind": "random_plane", "objective": objective,
            "seeds": [int(s) for s in seeds], "span": span, "resolution": resolution,
            "zero_biases": zero_biases, "samples": samples,
            "topology_threshold": check_threshold(topology_threshold)}
    with running(progress):
        return with_topology(random_plane_result(net, X, y, spec, name,
                                                  heldout_of(model, heldout), n_jobs=n_jobs),
                              topology)
