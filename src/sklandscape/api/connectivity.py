"""Mode connectivity between networks trained from several seeds: permutation alignment
(sklandscape.analyses.alignment) and paths with their barriers
(sklandscape.analyses.connectivity), as tables, metrics and figures."""

from __future__ import annotations

import copy
import itertools
import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sklandscape.analyses.alignment import (
    alignment_perms,
    check_same_architecture,
    permuted,
)
from sklandscape.analyses.connectivity import (
    PATHS,
    barrier,
    bezier_points,
    linear_points,
    path_t,
    plane_basis,
    plane_coordinates,
    plane_window,
    train_control,
)
from sklandscape.api.inputs import heldout_of, inputs_of, network_of, running
from sklandscape.api.result import Result
from sklandscape.engine.landscape import parameter_measures, plane_grid, plane_measures
from sklandscape.engine.workers import banded
from sklandscape.options import check_n_jobs, check_options
from sklandscape.progress import ProgressLog

log = logging.getLogger("sklandscape")

# Every table but "pairs" (one row per pair, made first), in the order they are written.
TABLES = ("paths", "plane", "landmarks", "alignment", "controls")



def align(reference, model, X=None, *, method: str = "weight"):
    """A copy of `model` with its hidden units permuted to match `reference`'s: the same
    function, with weights as close to the reference's as a permutation makes them. For tanh
    and identity units, which keep the function when their weights in and out are negated,
    each unit may also be flipped.

    Parameters
    ----------
    reference, model : fitted MLPRegressor or MLPClassifier (or a Pipeline ending in one, or
        a sklandscape Network), of one architecture
    X : array of shape (n_samples, n_features), optional
        The rows whose activations activation matching correlates (needed for it only).
    method : {"weight", "activation"}, default "weight"
        Weight matching (coordinate descent over the layers, each an assignment problem on
        the inner products of the units' weights) or activation matching (each layer an
        assignment problem on the correlation of the units' activations on X).

    Returns
    -------
    The aligned copy, of the type given: its ``predict`` equals the original's up to the
    order of floating-point sums.

    Raises
    ------
    ValueError
        The two networks differ in architecture (naming the layer sizes), `method` is not
        "weight" or "activation", or X is not a finite (n_samples, n_features) array.

    Examples
    --------
    >>> import numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPRegressor
    >>> X = np.linspace(-3, 3, 60)[:, None]; y = np.sin(X).ravel()
    >>> a, b = (MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=500,
    ...                      random_state=seed).fit(X, y) for seed in (0, 1))
    >>> aligned = sl.align(a, b)
    >>> bool(np.allclose(aligned.predict(X), b.predict(X), rtol=0, atol=1e-12))
    True
    """
    reference_net, net = network_of(reference), network_of(model)
    check_same_architecture(reference_net, net, "model")
    if X is not None:  # the rows' own units: the networks scale them themselves
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != reference_net.layer_sizes[0] \
                or not np.all(np.isfinite(X)):
            raise ValueError(f"X must be a finite (n_samples, {reference_net.layer_sizes[0]}) "
                             f"array, got shape {X.shape}")
    aligned = permuted(net, *alignment_perms(reference_net, net, method, X))
    if net is model:  # a Network
        return aligned
    copied = copy.deepcopy(model)
    mlp = copied.steps[-1][1] if getattr(copied, "steps", None) else copied
    mlp.coefs_, mlp.intercepts_ = aligned.to_estimator_arrays()
    return copied


def _measured(net, X, y, points, heldout, suffix=""):
    columns = {f"{k}{suffix}": v for k, v in parameter_measures(net, X, y, points).items()}
    if heldout is not None:
        held = parameter_measures(net, *heldout, points)
        columns |= {f"{k}_heldout{suffix}": v for k, v in held.items()}
    return columns


def connectivity(models: Sequence, X, y, *, heldout=None, method: str = "weight",
                 resolution: int = 51, curve_points: int = 16, curve_max_iter: int = 200,
                 plane_resolution: int = 41, margin: float = 0.2,
                 names: Sequence[str] | None = None, name: str = "connectivity",
                 network: str | None = None, n_jobs: int | None = None,
                 progress: bool = True) -> Result:
    """Are networks trained from different seeds in one basin? For every pair: the linear
    path before and after aligning the second's hidden units to the first's, a Bézier curve
    trained to lower the mean loss along it, their barriers, and the plane through the ends
    and the curve's control point.

    Parameters
    ----------
    models : sequence of at least two fitted MLPRegressor or MLPClassifier (or Pipelines
        ending in one, or sklandscape Networks) of one architecture and input scaling
    X, y : the rows they were trained on (the paths' loss and the plane are on them)
    heldout : (X, y), optional
        Rows none of them trained on: every path is also scored there.
    method : {"weight", "activation"}, default "weight"
        How the hidden units are aligned (see ``sklandscape.align``).
    resolution : int, default 51
        Points along each path, t = 0 … 1.
    curve_points : int, default 16
        The fixed t at which the curve's mean loss is taken while training its control point.
    curve_max_iter : int, default 200
        L-BFGS iterations of that training.
    plane_resolution : int, default 41
        Points per axis of each pair's plane.
    margin : float, default 0.2
        The plane's window beyond its three points, as a share of their extent.
    n_jobs : int, optional
        Worker processes over the pairs (joblib's: None = 1, -1 = every core), each with one
        BLAS thread; the tables are the same for every n_jobs.
    names : sequence of str, optional
        The networks' names in tables and figures (default model_0, model_1, …).
    name, network : str
        The analysis' and the networks' family names (titles and metadata).

    Returns
    -------
    Result
        Tables ``"pairs"`` (one row per pair: distances before and after alignment, units
        moved and flipped, the curve's training, and per path ``barrier_linear``, ``barrier_aligned``,
        ``barrier_curve``, with ``_heldout`` versions), ``"paths"`` (pair, path, t, loss and a
        classifier's accuracy), ``"plane"`` (pair, x, y, loss), ``"landmarks"`` (the plane's
        coordinates of both ends, the unaligned end and the control point, each with its
        distance off the plane), ``"alignment"`` (each hidden unit's match: unit ``unit`` of
        the aligned second network is the second's unit ``matched``, times ``sign``) and ``"controls"`` (the
        curve's control point, weight by weight); metrics
        ``barrier_mean_<path>`` and ``barrier_max_<path>``; figures ``"barriers"``,
        ``"plane"`` and ``"path:<first>__<second>"`` per pair.

    Raises
    ------
    OptionError
        An option its rule refuses, named with its value, before any work.
    ValueError
        Fewer than two models, names that are not one per model and distinct, or models of
        different architectures (naming the one that differs).

    Examples
    --------
    >>> import numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPRegressor
    >>> X = np.linspace(-3, 3, 60)[:, None]; y = np.sin(X).ravel()
    >>> models = [MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=500,
    ...                        random_state=seed).fit(X, y) for seed in (0, 1, 2)]
    >>> result = sl.connectivity(models, X, y, resolution=11, curve_max_iter=20,
    ...                          plane_resolution=9)
    >>> len(result.tables["pairs"])
    3
    """
    check_options("connectivity", method=method, resolution=resolution,
                  curve_points=curve_points, curve_max_iter=curve_max_iter,
                  plane_resolution=plane_resolution, margin=margin)
    check_n_jobs(n_jobs)
    models = list(models)
    if len(models) < 2:
        raise ValueError(f"models: connectivity needs at least two networks, got {len(models)}")
    names = [f"model_{k}" for k in range(len(models))] if names is None else list(names)
    if len(names) != len(models) or len(set(names)) != len(names):
        raise ValueError(f"names must give each of the {len(models)} models its own name, got "
                         f"{names!r}")
    net, X, y = inputs_of(models[0], X, y)
    nets = [net] + [network_of(m) for m in models[1:]]
    for other, label in zip(nets[1:], names[1:]):
        check_same_architecture(net, other, label)
    heldout = heldout_of(models[0], heldout)
    pairs = list(itertools.combinations(range(len(nets)), 2))
    # A pair's steps: the curve's training iterations, then its paths and plane as one more.
    steps = curve_max_iter + 1
    steps_done = ProgressLog(f"connectivity {name}", unit="steps (curve iterations, then "
                             "paths and plane, per pair)", chunks=False)
    t = path_t(resolution)
    total = len(pairs) * steps

    def compute(band: range, report):
        """The pairs of `band`, in order; each pair is computed alone (the same bits in a
        worker process as here)."""
        for done in band:
            i, j = pairs[done]
            pair = {"first": names[i], "second": names[j]}
            curve = None if report is None else (
                lambda k, _, base=done * steps: report(base + k, total))
            yield done, _pair(nets[i], nets[j], X, y, heldout, t, method, curve_points,
                              curve_max_iter, plane_resolution, margin, pair, curve)
            if report is not None:
                report((done + 1) * steps, total)

    found = {key: [] for key in ("pairs",) + TABLES}
    with running(progress):
        for _, (row, tables) in banded(compute, range(len(pairs)), n_jobs, steps_done,
                                       unit=steps):
            found["pairs"].append(row)
            for key, frame in tables.items():
                found[key].append(frame)
            log.info("%s and %s: barriers %.4g linear, %.4g aligned, %.4g curve",
                     row["first"], row["second"], row["barrier_linear"],
                     row["barrier_aligned"], row["barrier_curve"])
    tables = {"pairs": pd.DataFrame(found["pairs"])}
    tables |= {key: pd.concat(found[key], ignore_index=True)
               for key in TABLES}
    metadata = {"analysis": {"kind": "connectivity", "method": method,
                             "resolution": int(resolution), "curve_points": int(curve_points),
                             "curve_max_iter": int(curve_max_iter),
                             "plane_resolution": int(plane_resolution),
                             "margin": float(margin)},
                "network": {"name": network or "networks", "members": names,
                            "layer_sizes": list(net.layer_sizes),
                            "activation": net.activation, "out_activation": net.out_activation,
                            "loss": net.loss_name,
                            **({"classes": list(net.classes)} if net.classes is not None
                               else {})},
                "n_samples": int(len(y))}
    if heldout is not None:
        metadata["heldout"] = {"n_samples": int(len(heldout[1]))}
    metrics = {"n_networks": float(len(nets)), "n_pairs": float(len(pairs))}
    for path in PATHS:
        for suffix in ("", "_heldout") if heldout is not None else ("",):
            values = tables["pairs"][f"barrier_{path}{suffix}"].to_numpy(float)
            if np.all(np.isfinite(values)):
                metrics[f"barrier_mean_{path}{suffix}"] = float(values.mean())
                metrics[f"barrier_max_{path}{suffix}"] = float(values.max())
    return Result("connectivity", name, tables, dict.fromkeys(tables, metadata), metrics,
                  figures=_figures(tables, names, name, metadata, heldout is not None))


def _pair(first, second, X, y, heldout, t, method, curve_points, curve_max_iter,
          plane_resolution, margin, pair: dict, progress=None):
    """Everything of one pair: its row of the pairs table and its rows of the others."""
    perms, signs = alignment_perms(first, second, method, X)
    aligned = permuted(second, perms, signs)
    a, b, b_raw = first.flat, aligned.flat, second.flat
    control, training = train_control(first, X, y, a, b, points=curve_points,
                                       max_iter=curve_max_iter, progress=progress)
    frames, row = [], dict(pair)
    row |= {"distance": float(np.linalg.norm(b_raw - a)),
            "distance_aligned": float(np.linalg.norm(b - a)),
            "units_moved": int(sum(int(np.sum(p != np.arange(len(p)))) for p in perms)),
            "units_flipped": int(sum(int(np.sum(s < 0)) for s in signs))}
    row |= training
    for path, points in (("linear", linear_points(a, b_raw, t)),
                         ("aligned", linear_points(a, b, t)),
                         ("curve", bezier_points(a, control, b, t))):
        columns = _measured(first, X, y, points, heldout)
        frames.append(pd.DataFrame({**pair, "path": path, "t": t, **columns}))
        row[f"barrier_{path}"] = barrier(t, columns["loss"])
        if heldout is not None:
            row[f"barrier_{path}_heldout"] = barrier(t, columns["loss_heldout"])
        row[f"loss_max_{path}"] = float(np.max(columns["loss"]))
    basis = plane_basis(a, b, control, b_raw)
    marks = np.stack([a, b, control, b_raw])
    x, yy, off = plane_coordinates(marks, a, basis)
    xs, ys = plane_window(x[:3], yy[:3], margin, plane_resolution)
    grid = plane_grid(xs, ys, names=("x", "y"))
    cells = plane_measures(first, X, y, grid, a, basis)
    points = grid.points()
    plane = pd.DataFrame({**pair, "x": points[:, 0], "y": points[:, 1],
                          **{k: np.ravel(v) for k, v in cells.items()}})
    landmarks = pd.DataFrame({**pair, "point": ["first", "second_aligned", "control", "second"],
                              "x": x, "y": yy, "off_plane": off,
                              "loss": parameter_measures(first, X, y, marks)["loss"]})
    alignment = pd.DataFrame([{**pair, "layer": np.int64(k + 1), "unit": np.int64(u),
                               "matched": np.int64(m), "sign": np.int64(sign[u])}
                              for k, (perm, sign) in enumerate(zip(perms, signs))
                              for u, m in enumerate(perm)])
    controls = pd.DataFrame({**pair, "name": first.names, "value": control})
    return row, {"paths": pd.concat(frames, ignore_index=True), "plane": plane,
                 "landmarks": landmarks, "alignment": alignment, "controls": controls}


def _figures(tables, names, name, metadata, heldout: bool) -> dict:
    from sklandscape.figures import connectivity as plots

    family = metadata["network"]["name"]
    method = metadata["analysis"]["method"]
    what = (f"{name}: {metadata['network']['loss']} of {family} ({len(names)} networks, "
            f"one per seed) between every pair")
    figures = {
        "barriers": lambda: plots.barriers_figure(
            tables["pairs"], names, heldout=heldout, loss_name=metadata["network"]["loss"],
            title=f"{what}: barrier of the straight line before and after aligning the hidden "
                  f"units ({method} matching), and of a trained Bézier curve"),
        "plane": lambda: plots.plane_figure(
            tables["plane"], tables["paths"], tables["landmarks"], tables["pairs"],
            title=f"{what}: the plane through both ends (the second aligned) and the curve's "
                  "control point", loss_name=metadata["network"]["loss"]),
    }
    for row in tables["pairs"].to_dict("records"):
        first, second = row["first"], row["second"]
        rows = tables["paths"][(tables["paths"]["first"] == first)
                               & (tables["paths"]["second"] == second)]
        title = (f"{name}: {metadata['network']['loss']} along the paths from {first} "
                 f"(t = 0) to {second} (t = 1)")
        figures[f"path:{first}__{second}"] = (
            lambda rows=rows, row=row, title=title: plots.path_figure(
                rows, pd.Series(row), title=title, loss_name=metadata["network"]["loss"]))
    return figures
