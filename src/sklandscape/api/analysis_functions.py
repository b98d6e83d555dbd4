"""The public analysis functions: a fitted MLP, its data and one of its landscapes in, a
Result out. Options are the config keys of the same name, with the same defaults."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sklandscape.analyses.sharpness import SETTINGS
from sklandscape.api.analyses import input_attack_result
from sklandscape.api.curvature import curvature_result
from sklandscape.api.inputs import heldout_of, inputs_of, running
from sklandscape.api.optimizer_runs import optimizers_result
from sklandscape.api.result import Result
from sklandscape.options import check_methods, check_n_jobs, check_options

LEARNING_RATES = (1.0e-5, 3.16e-5, 1.0e-4, 3.16e-4, 1.0e-3, 3.16e-3, 1.0e-2, 3.16e-2, 0.1,
                  0.316, 1.0)
# Each method's settings and their defaults, as the config schema fills them in.
METHODS = {"gd": {}, "momentum": {"beta": 0.9}, "nesterov": {"beta": 0.9},
           "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1.0e-8}}


def _slice_of(model, X, y, landscape: Result, kind: str):
    if not isinstance(landscape, Result) or landscape.kind != kind:
        got = landscape.kind if isinstance(landscape, Result) else type(landscape).__name__
        raise ValueError(f"this analysis needs a landscape of kind {kind!r} (from "
                         f"sl.{kind}(...)), not {got!r}")
    net, X, y = inputs_of(model, X, y)
    rows = np.asarray(landscape.metadata["samples"], dtype=np.int64)
    if len(rows) and rows.max() >= len(y):
        raise ValueError(f"the landscape used data row {int(rows.max())}, but X has {len(y)} rows: "
                         "pass the X, y the landscape was made with")
    return net, X, y, rows


def curvature(model, X, y, landscape: Result, *, plateau_threshold: float = 1.0,
              eigenvalue_rtol: float | None = None, heldout=None,
              full_hessian_max_weights: int = 1500, top_k: int = 5, trace_probes: int = 100,
              density_probes: int = 4, lanczos_steps: int = 80, bottom_max_products: int = 1000,
              random_state: int = 0, sharpness_epsilon: float = 1e-3, sharpness_steps: int = 20,
              cut_points: int = 41, name: str = "curvature", n_jobs: int | None = None,
              progress: bool = True) -> Result:
    """The Hessian of the loss at the trained weights (its spectrum, trace, sharpness and the
    loss along its top eigenvectors), and convexity and plateau maps on a weights landscape's
    slice (its axes, window, grid and data rows).

    Up to ``full_hessian_max_weights`` weights (default 1500) the full Hessian, exact; beyond,
    matrix-free from exact Hessian-vector products: Lanczos for the ``top_k`` largest and
    smallest eigenpairs, Hutchinson for the trace, stochastic Lanczos quadrature for the
    eigenvalue density.

    Parameters
    ----------
    landscape : Result of ``sl.weights``
    plateau_threshold : float, default 1.0
        A grid point is on a plateau where the gradient along the slice is below this (loss
        per unit of weight).
    eigenvalue_rtol : float, optional
        An eigenvalue counts as positive above this times the largest |eigenvalue|; by
        default the numerical tolerance (size x machine epsilon).
    heldout : (X, y), optional
        Held-out rows: their loss at the trained and at the sharpest point, and along the cuts.
    full_hessian_max_weights : int, default 1500
        Up to this many weights the full Hessian is computed, exactly; beyond, matrix-free.
    top_k : int, default 5
        Eigenpairs found at each end of the spectrum (matrix-free), and cuts drawn.
    trace_probes : int, default 100
        Hutchinson probes of the trace (matrix-free; relu and identity networks: exact).
    density_probes, lanczos_steps : int, default 4, 80
        Stochastic Lanczos quadrature of the eigenvalue density: probes, steps each.
    bottom_max_products : int, default 1000
        Hessian-vector products the bottom of the spectrum may take (block Lanczos); it
        stops sooner once the bottom is clear, or crowds within 1e-4 λ_max of zero.
    random_state : int, default 0
        Seed of the probes and the Lanczos starts (an int, so that the tables are the same
        bits every run).
    sharpness_epsilon, sharpness_steps : float, int, default 1e-3, 20
        Keskar et al.'s ε-sharpness: the box's relative size, projected-ascent steps.
    cut_points : int, default 41
        Points along each eigenvector cut.
    n_jobs : int, optional
        Threads sharing each Hessian-vector product's rows (matrix-free; as in scikit-learn:
        None = 1, -1 = every core). Rows are split in shares of 512 whatever n_jobs, summed
        in order: the tables are the same bits for every n_jobs.
    progress : bool, default True
        A progress bar (products done, time left) once the call has run a second.

    Returns
    -------
    Result
        Tables ``"hessian"`` (rank, eigenvalue, which, one column per weight),
        ``"hessian_matrix"`` (empty when matrix-free), ``"spectrum"`` (quadrature nodes),
        ``"eigen_cuts"`` and ``"curvature_map"``; tags ``strictly_convex``, ``verdict`` and
        ``hessian_method``; figures ``"hessian"``, ``"spectrum"``, ``"cuts"``,
        ``"convexity"``, ``"plateau"``.

    Raises
    ------
    OptionError
        A setting its rule refuses (the config schema's), named with its value, before any
        work.
    ValueError
        `landscape` is not a weights landscape of this model and data.

    Examples
    --------
    >>> import numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPRegressor
    >>> X = np.linspace(-3, 3, 60)[:, None]; y = np.sin(X).ravel()
    >>> model = MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", solver="lbfgs",
    ...                      max_iter=2000, random_state=0).fit(X, y)
    >>> slice_ = sl.weights(model, X, y, axes=("W1[0,0]", "W2[0,0]"), span=0.5, resolution=9,
    ...                     progress=False)
    >>> result = sl.curvature(model, X, y, slice_, progress=False)
    >>> result.metadata["method"], len(result.tables["hessian"])  # 10 weights: exact
    ('exact', 10)
    >>> result.tags["strictly_convex"] in ("yes", "no")
    True
    """
    given = locals()
    settings = {key: given[key] for key in SETTINGS}  # in the config's order
    check_n_jobs(n_jobs)
    check_options("curvature", plateau_threshold=plateau_threshold, **settings,
                  **({} if eigenvalue_rtol is None else {"eigenvalue_rtol": eigenvalue_rtol}))
    net, X, y, rows = _slice_of(model, X, y, landscape, "weights")
    # Every setting written out, as the config schema fills in its defaults: the tables'
    # metadata then equal the pipeline's.
    spec = {"kind": "curvature", "landscape": landscape.name,
            "plateau_threshold": plateau_threshold, **settings}
    if eigenvalue_rtol is not None:
        spec["eigenvalue_rtol"] = eigenvalue_rtol
    held = heldout_of(model, heldout)
    with running(progress):
        return curvature_result(net, X[rows], y[rows], landscape.frame, landscape.metadata, spec,
                                name, heldout=held, n_jobs=n_jobs)


def optimizers(model, X, y, landscape: Result, start_offsets: Sequence[Sequence[float]], *,
               learning_rates: Sequence[float] = LEARNING_RATES, epsilon: float = 1e-3,
               max_steps: int = 1000, methods: dict | None = None,
               name: str = "optimizers", n_jobs: int | None = None,
               progress: bool = True) -> Result:
    """Gradient descent, heavy ball, Nesterov and Adam on a weights landscape's slice, each at
    its best learning rate, from starts at `start_offsets` from the trained point.

    Parameters
    ----------
    start_offsets : list of [d0, d1]
        Starting points as offsets from the trained values of the slice's two weights; each
        must lie in the landscape's window.
    learning_rates : list of float
        Tried for every method; each method is reported at the one that gets within
        `epsilon` of the slice's minimum from most starts in fewest steps.
    methods : dict, default all four
        ``{"gd": {}, "momentum": {"beta": 0.9}, "nesterov": {}, "adam": {}}``; a method may
        list its own ``learning_rates``.

    epsilon : float, default 1e-3
        A run has converged from the step on which its loss stays within this of the slice's
        minimum.
    max_steps : int, default 1000
        Steps per run.
    name : str
        The analysis' name.
    n_jobs : int, optional
        Worker processes for the methods (as in scikit-learn: None = 1, -1 = every core);
        the tables are the same bits for every n_jobs.
    progress : bool, default True
        A progress bar over the steps of every method.

    Returns
    -------
    Result
        Tables ``"optimizer_runs"`` (one row per method, rate and start: steps to epsilon,
        final loss and distance, whether it diverged, whether its rate is the method's
        chosen one) and ``"optimizer_paths"`` (the chosen rate's iterates); tag
        ``verdict_momentum``; figure ``"paths"``; ``save_animation(path)`` writes the GIF.

    Raises
    ------
    OptionError
        An option or a method's setting its rule refuses (``methods.adam.beta1: 1.0 is
        greater than or equal to the maximum of 1``), or an unknown method, before any work.
    ValueError
        `landscape` is not a weights landscape of this model and data, or a start lies
        outside its window.

    Examples
    --------
    >>> import numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPRegressor
    >>> X = np.linspace(-3, 3, 60)[:, None]; y = np.sin(X).ravel()
    >>> model = MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", solver="lbfgs",
    ...                      max_iter=2000, random_state=0).fit(X, y)
    >>> slice_ = sl.weights(model, X, y, axes=("W1[0,0]", "W2[0,0]"), span=0.5, resolution=9,
    ...                     progress=False)
    >>> result = sl.optimizers(model, X, y, slice_, start_offsets=[[0.3, 0.3]],
    ...                        learning_rates=[0.01, 0.1], max_steps=50, progress=False)
    >>> sorted(result.tables["optimizer_runs"]["method"].unique())
    ['adam', 'gd', 'momentum', 'nesterov']
    """
    check_options("optimizers", start_offsets=start_offsets, learning_rates=learning_rates,
                  epsilon=epsilon, max_steps=max_steps)
    check_n_jobs(n_jobs)
    if methods is not None:
        check_methods(methods)
    net, X, y, rows = _slice_of(model, X, y, landscape, "weights")
    spec = {"kind": "optimizers", "landscape": landscape.name,
            "start_offsets": [list(map(float, s)) for s in start_offsets],
            "learning_rates": [float(r) for r in learning_rates], "epsilon": epsilon,
            "max_steps": max_steps, "methods": _methods(methods)}
    with running(progress):
        return optimizers_result(net, X[rows], y[rows], landscape.frame, landscape.metadata,
                                 spec, name, n_jobs=n_jobs)


def input_attack(model, X, y, landscape: Result, *, target_function: str | None = None,
                 top_k: int = 10, arrows: int = 25, step_size: float = 0.02, steps: int = 20,
                 radius: float = 0.3, name: str = "input_attack", progress: bool = True) -> Result:
    """An adversary's first look at an input landscape: the worst data points, gradient ascent
    on each data point's loss (within `radius` of it, on the landscape's two features), and
    gradient arrows over the map.

    The loss is a regressor's squared error or a classifier's log-loss. Its target is
    `target_function` (a generating function, by name) where given, else the one the input
    landscape was made with if that was a generating function; otherwise each data point's
    own y or class (on the map: the nearest data point's).

    Parameters
    ----------
    model, X, y
        The fitted model and the data of the input landscape.
    landscape : Result of ``sl.input_space``
        Its two features, window and reference values are the attack's.
    target_function : str, optional
        A generating function's name (``"sine"``, …) to score against.
    top_k : int, default 10
        How many of the worst data points to list and mark.
    arrows : int, default 25
        Gradient arrows per axis on the map.
    step_size, steps, radius : float, int, float, default 0.02, 20, 0.3
        The ascent from every data point: each (normalised) step's length, the steps, and
        the distance from its data point it may not leave (nor the landscape's window). The
        config nests them under ``ascent:``.
    name : str
        The analysis' name.
    progress : bool, default True
        A progress bar over the ascent's steps.

    Returns
    -------
    Result
        Tables ``"worst_inputs"``, ``"ascent"`` (per data point: start and best loss, gain),
        ``"ascent_paths"`` and ``"gradient_field"``; metrics such as ``worst_error`` and
        ``ascent_gain_max``; figures of the worst points, the ascent and the arrows.

    Raises
    ------
    OptionError
        An option its rule refuses, named with its value, before any work.
    ValueError
        `landscape` is not an input landscape, or `target_function` is not a known name.

    Examples
    --------
    >>> import numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, (80, 2)); y = np.sin(X[:, 0]) * X[:, 1]
    >>> model = MLPRegressor(hidden_layer_sizes=(6,), activation="tanh", solver="lbfgs",
    ...                      max_iter=2000, random_state=0).fit(X, y)
    >>> plane = sl.input_space(model, X, y, resolution=9, progress=False)
    >>> result = sl.input_attack(model, X, y, plane, top_k=3, arrows=4, steps=5,
    ...                          progress=False)
    >>> len(result.tables["worst_inputs"]), bool(result.metrics["ascent_gain_mean"] >= 0)
    (3, True)
    """
    check_options("input_attack", top_k=top_k, arrows=arrows, step_size=step_size, steps=steps,
                  radius=radius)
    if not isinstance(landscape, Result) or landscape.kind != "input_space":
        raise ValueError("input_attack needs a landscape of kind 'input_space' (from sl.input_space(...))")
    net, X, y = inputs_of(model, X, y)
    if target_function is None:
        described = landscape.metadata.get("target", "")
        prefix = "generating function "
        if described.startswith(prefix) and not net.is_classifier:
            target_function = described[len(prefix):]
    spec = {"kind": "input_attack", "landscape": landscape.name, "top_k": top_k,
            "arrows": arrows, "ascent": {"step_size": step_size, "steps": steps,
                                         "radius": radius}}
    with running(progress):
        return input_attack_result(net, X, y, landscape.frame, landscape.metadata, spec,
                                   target_function, name)


def _methods(methods: dict | None) -> dict:
    chosen = METHODS if methods is None else methods  # checked by check_methods
    return {m: METHODS[m] | dict(chosen[m] or {}) for m in chosen}
