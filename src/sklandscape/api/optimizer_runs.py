"""Analysis stage: gradient descent, heavy ball, Nesterov and Adam on a landscape's slice.

Like sklandscape.pipeline.stages.analyses (whose slice loading it shares): files in, files out, a dict of
metrics and tags back.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from sklandscape.analyses.curvature import (
    eigenvalue_tolerance,
    slice_minimum,
    symmetric_2x2_eigenvalues,
)
from sklandscape.analyses.optimizers import (
    METHODS,
    best_rate,
    momentum_verdict,
    run,
    steps_to_epsilon,
    worst_case,
)
from sklandscape.api.analyses import check_consistent, scored_as, slice_plane
from sklandscape.api.analysis_plots import optimizer_animation, optimizer_figure
from sklandscape.api.result import Result
from sklandscape.engine.workers import banded
from sklandscape.progress import ProgressLog

log = logging.getLogger("sklandscape")


def optimizers_result(net, X, y, table, metadata: dict, spec: dict, name: str,
                      source="the landscape", n_jobs=None) -> Result:
    """Each optimizer at each learning rate from each start; the best rate's paths kept.

    The question is how to minimise the slice as the landscape draws it, so every method
    is run in its projected form on the landscape's window (iterates clipped to it); with
    one data point the zero-loss valley runs out of any window, and an unbounded run
    would follow it (or be thrown by a large step) out of sight. The slice's minimum is
    the landscape grid's best point refined by damped Newton (curvature.slice_minimum).
    A run's steps-to-epsilon is the first step from which its loss stays within epsilon
    of that minimum. Each method's learning rate is the one of
    the configured list that reaches epsilon from the most starts, then in the fewest
    steps for the slowest start: every method at its best, a fair comparison. The methods
    are independent: `n_jobs` runs them in worker processes (the same bits).
    """
    net = scored_as(net, metadata)
    plane, axes, points, grid_loss = slice_plane(net, X, y, table, metadata)
    lowest = int(np.nanargmin(grid_loss))  # one point suffices to catch a stale landscape
    check_consistent(grid_loss[[lowest]], plane.value_and_gradient(points[[lowest]])[0],
                      source)
    window = [(float(points[:, k].min()), float(points[:, k].max())) for k in range(2)]
    minimum = slice_minimum(plane, points, grid_loss, window)
    centre = np.array([net.value(a) for a in axes])
    starts = centre + np.asarray(spec["start_offsets"], dtype=np.float64).reshape(-1, 2)
    outside = [k for k, (a, b) in enumerate(starts)
               if not (window[0][0] <= a <= window[0][1] and window[1][0] <= b <= window[1][1])]
    if outside:
        raise ValueError(f"start_offsets {[spec['start_offsets'][k] for k in outside]} put the "
                         f"start outside the landscape's window {window} (offsets are from the "
                         f"trained values {centre.tolist()})")
    epsilon, max_steps = float(spec["epsilon"]), int(spec["max_steps"])
    runs, paths, chosen, edge = [], [], {}, {}
    methods = sorted(spec["methods"], key=_method_order)
    progress = ProgressLog(f"optimizers {name}", chunks=False,
                           unit=f"steps ({len(starts)} starts x each learning rate at once)")
    total = len(methods) * (max_steps + 1)

    def compute(band: range, report):
        for k in band:
            settings = dict(spec["methods"][methods[k]] or {})
            rates = np.asarray(settings.pop("learning_rates", spec["learning_rates"]),
                               dtype=np.float64)
            step = None if report is None else (
                lambda t, k=k: report(k * (max_steps + 1) + t + 1, total))
            yield rates, run(methods[k], plane.value_and_gradient, starts, rates, max_steps,
                             window, step, **settings)

    # In the order of optimizers.METHODS, whatever the config's order: tables and legends
    # then read GD, heavy ball, Nesterov, Adam.
    found = banded(compute, range(len(methods)), n_jobs, progress, unit=max_steps + 1)
    for method, (rates, result) in zip(methods, found):
        steps = steps_to_epsilon(result.loss, minimum.loss, epsilon)  # (rates, starts)
        best = best_rate(steps)
        chosen[method] = (float(rates[best]), steps[best])
        edge[method] = _edge_fraction(result.points[best], window)
        runs.append(_runs_frame(method, rates, starts, steps, result, minimum, best))
        paths.append(_paths_frame(method, rates[best], result.points[best], result.loss[best]))
    runs_frame = pd.concat(runs, ignore_index=True)
    paths_frame = pd.concat(paths, ignore_index=True)
    # A distance to "the" minimum only means something if it is isolated (positive definite
    # 2x2 Hessian); on one data point it is a curve of exact fits.
    curvature_at_min = np.array(symmetric_2x2_eigenvalues(plane.hessian(minimum.point)))
    isolated = bool(curvature_at_min[0] > eigenvalue_tolerance(curvature_at_min))
    distances = {m: float(runs_frame[(runs_frame["method"] == m) & runs_frame["chosen"]]
                          ["final_distance"].max()) if isolated else math.nan for m in chosen}
    verdict = momentum_verdict({m: worst_case(steps) for m, (_, steps) in chosen.items()},
                               distances, max_steps)
    meta = {
        "analysis": spec, "landscape": metadata["landscape"], "network": metadata["network"],
        "samples": metadata["samples"], "n_samples": metadata["n_samples"], "axes": list(axes),
        "centre": metadata["centre"], "epsilon": epsilon, "max_steps": max_steps,
        "starts": starts.tolist(), "window": window, "verdict": verdict,
        "minimum_is_isolated": isolated,
        "slice_minimum": {axes[0]: float(minimum.point[0]), axes[1]: float(minimum.point[1]),
                          "loss": minimum.loss, "gradient_norm": minimum.gradient_norm,
                          "grid_loss": minimum.grid_loss},
        "learning_rates": {m: rate for m, (rate, _) in chosen.items()},
    }
    metrics = {"slice_min_loss": minimum.loss, "slice_min_gradient_norm": minimum.gradient_norm,
               "epsilon": epsilon, "max_steps": float(max_steps)}
    for method, (rate, steps) in chosen.items():
        metrics[f"learning_rate_{method}"] = rate
        metrics[f"steps_to_eps_{method}"] = worst_case(steps)
        metrics[f"reached_eps_{method}"] = float(np.mean(np.isfinite(steps)))
        metrics[f"edge_fraction_{method}"] = edge[method]
        metrics[f"final_distance_{method}"] = distances[method]
        for k, value in enumerate(steps):
            metrics[f"steps_to_eps_{method}_start{k}"] = float(value)
    log.info("optimizers: %s", verdict)
    result = Result(
        "optimizers", name, {"optimizer_runs": runs_frame, "optimizer_paths": paths_frame},
        {"optimizer_runs": meta, "optimizer_paths": meta}, metrics,
        {"verdict_momentum": verdict},
        figures={"paths": lambda: optimizer_figure(runs_frame, paths_frame, meta, table, name)},
    )
    result.animation = lambda out_path: optimizer_animation(runs_frame, paths_frame, meta, table,
                                                            name, out_path)
    return result


def _method_order(method: str) -> int:
    return METHODS.index(method) if method in METHODS else len(METHODS)


def _edge_fraction(points: np.ndarray, window) -> float:
    """Share of the iterates after the start (all starts) that lie on the window's edge.

    The runs are projected onto the window; this says how much the edge shaped them.
    """
    moved = points[:, 1:, :]
    lows, highs = np.asarray(window, dtype=np.float64).T
    return float(np.mean(np.any((moved <= lows) | (moved >= highs), axis=-1)))


def _runs_frame(method, rates, starts, steps, result, minimum, best) -> pd.DataFrame:
    k, m = steps.shape
    final = result.loss[:, :, -1]
    # A low loss is not the minimum's place: along a flat valley floor the loss is within
    # epsilon far from it. The final distance says how far each run still is.
    distance = np.linalg.norm(result.points[:, :, -1, :] - minimum.point, axis=-1)
    return pd.DataFrame({
        "method": method, "learning_rate": np.repeat(rates, m), "start": np.tile(np.arange(m), k),
        "start_0": np.tile(starts[:, 0], k), "start_1": np.tile(starts[:, 1], k),
        "steps_to_eps": steps.ravel(), "final_loss": final.ravel(),
        "final_gap": (final - minimum.loss).ravel(), "final_distance": distance.ravel(),
        "diverged": result.diverged.ravel(),
        "chosen": np.repeat(np.arange(k) == best, m),
    })


def _paths_frame(method, rate, points, loss) -> pd.DataFrame:
    m, t = loss.shape
    return pd.DataFrame({
        "method": method, "learning_rate": float(rate), "start": np.repeat(np.arange(m), t),
        "step": np.tile(np.arange(t), m), "u0": points[..., 0].ravel(),
        "u1": points[..., 1].ravel(), "loss": loss.ravel(),
    })
