"""The analyses' shared slice loading and the input-space attack, from arrays (curvature:
sklandscape.api.curvature; optimizers on a slice: sklandscape.api.optimizer_runs).

Like sklandscape.pipeline.stages: files in, files out, a dict of metrics (and tags) back. Each
analysis works on an existing landscape, whose table fixes the slice (the two weights,
the window, the grid, the data rows) or the input window, so its maps line up with the
landscape's figure point for point.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from sklandscape.analyses.adversary import InputLoss, gradient_ascent, gradient_field, worst_inputs
from sklandscape.api.analysis_plots import attack_figure
from sklandscape.api.inputs import scored
from sklandscape.api.result import Result
from sklandscape.data.datasets import (
    generating_function,
    generating_gradient,
    nearest_neighbour_target,
)
from sklandscape.engine.landscape import InputPlane
from sklandscape.model.slice_jet import WeightSlice
from sklandscape.progress import ProgressLog

log = logging.getLogger("sklandscape")

# Relative agreement required between a landscape file and the loss recomputed here.
CONSISTENCY_RTOL = 1e-9


def slice_plane(net, X, y, table, metadata):
    """The slice as a function of its two weights, and the landscape grid's points and loss."""
    axes = tuple(metadata["landscape"]["axes"])
    plane = WeightSlice(net, X, y, axes)
    points = table[list(axes)].to_numpy(np.float64)
    loss = table["loss"].to_numpy(np.float64)
    return plane, axes, points, loss


def check_consistent(expected: np.ndarray, computed: np.ndarray, source) -> None:
    """The landscape file must be the loss of these weights and data (not a stale file).

    Relative agreement, with an absolute floor at the grid's scale so that near-zero losses
    (an exact fit) do not fail on rounding alone.
    """
    finite = np.isfinite(expected) & np.isfinite(computed)
    floor = 1e-12 * float(np.max(np.abs(expected[finite]), initial=0.0))
    difference = np.abs(expected[finite] - computed[finite])
    excess = difference - CONSISTENCY_RTOL * np.abs(expected[finite])
    if np.any(excess > floor) or not np.array_equal(np.isfinite(expected), np.isfinite(computed)):
        worst = float(np.max(difference, initial=0.0))
        raise ValueError(f"{source}: its loss column differs from the loss of the given weights and "
                         f"data (max difference {worst:.3g}); is it out of date?")


def _finite(metrics: dict) -> dict:
    """MLflow stores inf poorly; an infinite value is logged as NaN (undefined) instead."""
    return {k: (v if math.isfinite(v) else math.nan) for k, v in metrics.items()}


# --- input space --------------------------------------------------------------------------


def input_attack_result(net, X, y, table, metadata: dict, spec: dict,
                        target_function: str | None, name: str) -> Result:
    """Worst data points, gradient-ascent search from every data point, gradient arrows, on
    the two features of an input landscape (the others keep each point's own values).

    The target is the generating function where there is one; else each data point's own y
    (or class), and on the grid the nearest data point's, as on the input landscape.
    """
    plane = _plane_of(metadata, X.shape[1])
    (a, b), features = plane.names, list(plane.features)
    if target_function:
        at_data = field_target = generating_function(target_function)
        gradient = generating_gradient(target_function)
        described = f"the generating function {target_function}"
    else:
        at_data = lambda points: y  # noqa: E731  (the ascent keeps its starts in order)
        nearest = nearest_neighbour_target(X[:, features], y)
        field_target = lambda points: nearest(points[:, features])  # noqa: E731
        gradient = None
        described = ("each data point's own class" if net.is_classifier
                     else "each data point's own y")
    loss = InputLoss(net, at_data, gradient, plane.features)
    error = loss.value(X)
    k = int(spec["top_k"])
    worst = worst_inputs(error, k)
    worst_frame = pd.DataFrame({"rank": np.arange(1, len(worst) + 1), "row": worst,
                                a: X[worst, features[0]], b: X[worst, features[1]],
                                "error": error[worst]})
    bounds = [tuple(bound) for bound in metadata["bounds"]]
    settings = spec["ascent"]
    ascent = gradient_ascent(loss, X, float(settings["step_size"]), int(settings["steps"]),
                             float(settings["radius"]), dict(zip(features, bounds)),
                             ProgressLog(f"input_attack {name}", chunks=False,
                                         unit=f"ascent steps ({len(X)} starts at once)"))
    steps, n = ascent.loss.shape
    found = pd.DataFrame({
        "row": np.arange(n), f"{a}_start": X[:, features[0]], f"{b}_start": X[:, features[1]],
        "error_start": ascent.start_loss, a: ascent.best[:, features[0]],
        b: ascent.best[:, features[1]], "error": ascent.best_loss, "gain": ascent.gain,
    })
    ascent_paths = pd.DataFrame({
        "row": np.tile(np.arange(n), steps), "step": np.repeat(np.arange(steps), n),
        a: ascent.path[..., features[0]].ravel(), b: ascent.path[..., features[1]].ravel(),
        "error": ascent.loss.ravel(),
    })
    first = np.linspace(*bounds[0], int(spec["arrows"]))
    second = np.linspace(*bounds[1], int(spec["arrows"]))
    field = gradient_field(InputLoss(net, field_target, gradient, plane.features), first,
                           second, plane)
    meta = {"analysis": spec, "landscape": metadata["landscape"], "bounds": bounds,
            "network": metadata["network"], "target_function": target_function,
            "target": described, "plane": metadata.get("plane")}
    gain = ascent.gain
    metrics = {
        "top_k": float(len(worst)),
        "worst_error": float(error[worst[0]]) if len(worst) else math.nan,
        f"worst_{a}": float(X[worst[0], features[0]]) if len(worst) else math.nan,
        f"worst_{b}": float(X[worst[0], features[1]]) if len(worst) else math.nan,
        "top_k_mean_error": float(np.mean(error[worst])) if len(worst) else math.nan,
        "data_mean_error": float(np.mean(error)),
        "ascent_mean_error": float(np.mean(ascent.best_loss)),
        "ascent_error_ratio": float(np.mean(ascent.best_loss) / np.mean(error)),
        "ascent_gain_mean": float(np.mean(gain)),
        "ascent_gain_max": float(np.max(gain)),
        "ascent_max_error": float(np.max(ascent.best_loss)),
        "ascent_improved_fraction": float(np.mean(gain > 0)),
        "grid_max_error": float(np.nanmax(table["loss"].to_numpy())),
    }
    log.info("input attack: %s", metrics)
    return Result(
        "input_attack", name,
        {"worst_inputs": worst_frame, "ascent": found, "ascent_paths": ascent_paths,
         "gradient_field": field}, dict.fromkeys(("worst_inputs", "ascent", "ascent_paths",
                                                  "gradient_field"), meta), _finite(metrics),
        figures={"attack": lambda: attack_figure(table, worst_frame, meta, found, ascent_paths,
                                                 field, name)},
    )


def _plane_of(metadata: dict, n_inputs: int) -> InputPlane:
    """The input landscape's plane (its two features and the reference for the rest)."""
    plane = metadata.get("plane")
    if plane is None:  # a table from before planes: the first two features
        return InputPlane.first_two(n_inputs)
    return InputPlane(tuple(plane["features"]), np.asarray(plane["reference"], dtype=np.float64))


def scored_as(net, metadata: dict):
    """The network scored by its landscape's objective (an analysis of a landscape measures
    the same loss)."""
    objective = metadata.get("landscape", {}).get("objective")
    return scored(net, objective, metadata.get("network", {}).get("alpha", 0.0))
