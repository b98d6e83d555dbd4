"""The curvature analysis from arrays: the whole network's Hessian spectrum, sharpness and
eigenvector cuts at the trained weights, and the convexity and plateau maps of a landscape's
slice. The pipeline's curvature stage reads the files, calls this and writes what it returns.

Matrices and eigenvectors go into tables; metadata holds small facts; MLflow gets summary
metrics (the top few eigenvalues, trace, condition, negative share, sharpness), never one
metric per eigenvalue.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from sklandscape.analyses.curvature import (
    convex_fraction,
    curvature_map,
    eigenvalue_tolerance,
    flat_fraction,
    plateau_fraction,
    slice_minimum,
    symmetric_2x2_eigenvalues,
)
from sklandscape.analyses.sharpness import (
    SETTINGS,
    Spectrum,
    eigen_cuts,
    epsilon_sharpness,
    spectrum,
)
from sklandscape.api.analyses import _finite, check_consistent, scored_as, slice_plane
from sklandscape.api.analysis_plots import CURVATURE_FIGURES, curvature_figure
from sklandscape.api.result import Result
from sklandscape.model.gradients import loss_and_gradient
from sklandscape.progress import ProgressLog

log = logging.getLogger("sklandscape")
TOP_METRICS = 5  # eigenvalues logged one by one: the largest few


def settings_of(spec: dict) -> dict:
    """The analysis' whole-network settings, defaults filled in."""
    return SETTINGS | {k: spec[k] for k in SETTINGS if spec.get(k) is not None} | {
        "eigenvalue_rtol": spec.get("eigenvalue_rtol")}


def curvature_result(net, X, y, table, metadata: dict, spec: dict, name: str,
                     source="the landscape", heldout=None, n_jobs=None) -> Result:
    """The Hessian at the trained weights (exact up to full_hessian_max_weights, matrix-free
    beyond), sharpness and cuts along its top eigenvectors; convexity and plateau maps on the
    landscape's slice. X, y are the landscape's own rows; `heldout` (X, y) the held-out ones."""
    net = scored_as(net, metadata)
    settings = settings_of(spec)
    found = spectrum(net, X, y, settings, f"curvature {name}", n_jobs)
    gradient = loss_and_gradient(net, net.flat, X, y)[1]  # at the trained weights
    plane, axes, points, grid_loss = slice_plane(net, X, y, table, metadata)
    cmap = curvature_map(plane, points, axes, ProgressLog(f"curvature {name}: slice map"))
    check_consistent(grid_loss, cmap["loss"].to_numpy(), source)
    minimum = slice_minimum(plane, points, grid_loss)
    at_min = symmetric_2x2_eigenvalues(plane.hessian(minimum.point))
    sharp = epsilon_sharpness(net, X, y, float(settings["sharpness_epsilon"]),
                              int(settings["sharpness_steps"]), heldout)
    log.info("curvature %s: epsilon-sharpness %.4g (epsilon %g, %d ascent steps)", name,
             sharp.value, sharp.epsilon, sharp.iterations)
    cuts = eigen_cuts(net, X, y, found.top, int(settings["cut_points"]), heldout)
    verdict = _verdict(found, len(y), net.loss_name)
    small = {
        "analysis": spec, "landscape": metadata["landscape"], "samples": metadata["samples"],
        "n_samples": metadata["n_samples"], "network": metadata["network"],
        "method": found.method, "size": found.size, "products": found.products,
        "loss": sharp.loss, "gradient_norm": float(np.linalg.norm(gradient)),
        "tolerance": found.tolerance, "trace": found.trace, "trace_error": found.trace_error,
        "lambda_max": found.lambda_max, "lambda_min": found.lambda_min,
        "lambda_min_bound": found.lambda_min_bound,
        "lambda_min_resolution": found.bottom_resolution,
        "bottom_converged": found.bottom.converged, "negative_share": found.negative_share(),
        "is_strictly_convex": _strictly_convex(found), "verdict": verdict,
        "sharpness": {"epsilon": sharp.epsilon, "value": sharp.value,
                      "sharpest_loss": sharp.sharpest_loss, "heldout_loss": sharp.heldout_loss,
                      "heldout_sharpest_loss": sharp.heldout_sharpest_loss},
    }
    threshold = float(spec["plateau_threshold"])
    map_meta = {
        **{k: small[k] for k in ("analysis", "landscape", "samples", "n_samples", "network")},
        "centre": metadata["centre"], "axes": list(axes), "plateau_threshold": threshold,
        "slice_minimum": {axes[0]: float(minimum.point[0]), axes[1]: float(minimum.point[1]),
                          "loss": minimum.loss, "gradient_norm": minimum.gradient_norm,
                          "eig_min": float(at_min[0]), "eig_max": float(at_min[1])},
    }
    smallest = cmap["eig_min"].to_numpy()
    slice_tolerance = eigenvalue_tolerance(np.array(at_min), spec.get("eigenvalue_rtol"))
    metrics = _spectrum_metrics(found) | {
        "loss_at_trained": sharp.loss, "gradient_norm_at_trained": small["gradient_norm"],
        "is_strictly_convex": {True: 1.0, False: 0.0, None: math.nan}[small["is_strictly_convex"]],
        "newton_step_norm": _newton_step_norm(gradient, found),
        "epsilon_sharpness": sharp.value, "loss_at_sharpest": sharp.sharpest_loss,
        "plateau_threshold": threshold,
        "plateau_fraction": plateau_fraction(cmap["grad_norm"].to_numpy(), threshold),
        "convex_fraction": convex_fraction(smallest),
        "slice_min_loss": minimum.loss, "slice_min_gradient_norm": minimum.gradient_norm,
        "slice_min_eig_min": float(at_min[0]), "slice_min_eig_max": float(at_min[1]),
        "slice_min_strictly_convex": float(at_min[0] > slice_tolerance),
        "grid_min_loss": minimum.grid_loss,
    }
    if heldout is not None:
        metrics |= {"heldout_loss_at_trained": sharp.heldout_loss,
                    "heldout_loss_at_sharpest": sharp.heldout_sharpest_loss}
    metrics |= {f"slice_min_{a}": float(v) for a, v in zip(axes, minimum.point)}
    for k, axis in enumerate(axes):
        metrics[f"flat_fraction_{axis}"] = flat_fraction(cmap[f"grad_{k}"].to_numpy(), threshold)
    log.info("curvature %s: %s; plateau fraction %.4g (|grad| < %g); convex fraction %.4g",
             name, verdict, metrics["plateau_fraction"], threshold, metrics["convex_fraction"])
    tags = {"strictly_convex": {True: "yes", False: "no", None: "unknown"}[
        small["is_strictly_convex"]], "verdict": verdict, "hessian_method": found.method}
    tables = {"hessian": _eigenpairs_frame(found, net.names), "hessian_matrix":
              _matrix_frame(found, net.names), "spectrum": _quadrature_frame(found),
              "eigen_cuts": cuts, "curvature_map": cmap}
    metas = dict.fromkeys(tables, small) | {"curvature_map": map_meta}
    return Result(
        "curvature", name, tables, metas, _finite(metrics), tags,
        figures={which: (lambda which=which: curvature_figure(which, tables, metas, name))
                 for which in CURVATURE_FIGURES},
    )


def _newton_step_norm(gradient: np.ndarray, found: Spectrum) -> float:
    """|H^-1 g|, the distance to the local quadratic model's minimum: exact path, convex only."""
    if found.matrix is None or not _strictly_convex(found):
        return math.inf
    return float(np.linalg.norm(np.linalg.solve(found.matrix, gradient)))


def _strictly_convex(found: Spectrum) -> bool | None:
    """Every eigenvalue above the tolerance (matrix-free: also above the resolution the
    bottom is known to, within which a value counts as zero); None when the bottom is not
    known."""
    tolerance = max(found.tolerance, found.bottom_resolution)
    if not found.bottom.converged or not len(found.bottom.values):
        return None if found.quadrature.nodes.min() > tolerance else False
    return bool(found.lambda_min > tolerance)


def _spectrum_metrics(found: Spectrum) -> dict:
    top = found.top.values[::-1][:TOP_METRICS]
    metrics = {f"hessian_top_{k}": float(v) for k, v in enumerate(top, start=1)}
    return metrics | {
        "hessian_eig_max": found.lambda_max, "hessian_eig_min": found.lambda_min,
        "hessian_eig_min_bound": found.lambda_min_bound,
        "hessian_eig_min_resolution": found.bottom_resolution,
        "hessian_trace": found.trace, "hessian_trace_se": found.trace_error,
        "hessian_condition": found.condition, "hessian_negative_share": found.negative_share(),
        "hessian_products": float(found.products), "hessian_size": float(found.size),
        "hessian_exact": float(found.method == "exact"),
        "hessian_symmetry_error": found.symmetry_error,
    }


def _verdict(found: Spectrum, n_samples: int, loss_name: str) -> str:
    data = f"{loss_name} on {n_samples} data point{'s' if n_samples > 1 else ''}"
    if found.method == "exact":
        values = found.values
        n_positive = int(np.sum(values > found.tolerance))
        head = (f"{data}: {n_positive} of {len(values)} Hessian eigenvalues above "
                f"{found.tolerance:.2g} (smallest {values[0]:.3g}, largest {values[-1]:.3g})")
    else:
        if not found.bottom.converged:
            smallest = f"smallest <= {found.lambda_min_bound:.3g} (Lanczos bound)"
        elif abs(found.lambda_min) <= found.bottom_resolution:
            smallest = (f"smallest {found.lambda_min:.3g}, within the resolution "
                        f"± {found.bottom_resolution:.2g} of zero: the bottom crowds around zero")
        else:
            smallest = f"smallest {found.lambda_min:.3g} ± {found.bottom_resolution:.2g}"
        head = (f"{data}, {found.size} weights (matrix-free): largest eigenvalue "
                f"{found.lambda_max:.4g}, {smallest}, trace {found.trace:.4g}"
                + (f" ± {found.trace_error:.2g}" if found.trace_error else " (exact)")
                + f", ~{found.negative_share():.1%} "
                f"of the eigenvalues negative")
    convex = _strictly_convex(found)
    if convex:
        return (f"{head}: strictly convex at the trained weights (condition number "
                f"{found.condition:.3g})")
    if convex is None:
        return f"{head}: convexity undecided (the smallest eigenvalues did not converge)"
    return f"{head}: NOT strictly convex at the trained weights"


def _eigenpairs_frame(found: Spectrum, names: list[str]) -> pd.DataFrame:
    """One row per eigenpair, ascending: rank (0 = smallest of all P), eigenvalue, which
    (all / bottom / top), and the eigenvector's components by weight name."""
    if found.method == "exact":
        values, vectors, which = found.values, found.vectors, ["all"] * found.size
        ranks = np.arange(found.size)
    else:
        bottom, top = found.bottom, found.top
        values = np.concatenate([bottom.values, top.values])
        vectors = np.concatenate([bottom.vectors, top.vectors], axis=1)
        which = ["bottom"] * len(bottom.values) + ["top"] * len(top.values)
        ranks = np.concatenate([np.arange(len(bottom.values)),
                                found.size - len(top.values) + np.arange(len(top.values))])
    frame = pd.DataFrame(vectors.T, columns=names)
    frame.insert(0, "which", which)
    frame.insert(0, "eigenvalue", values)
    frame.insert(0, "rank", ranks.astype(np.int64))
    return frame


def _matrix_frame(found: Spectrum, names: list[str]) -> pd.DataFrame:
    """The full Hessian, one row per weight (empty when matrix-free: never formed)."""
    if found.matrix is None:
        return pd.DataFrame({"weight": pd.Series([], dtype=str)})
    frame = pd.DataFrame(found.matrix, columns=names)
    frame.insert(0, "weight", names)
    return frame


def _quadrature_frame(found: Spectrum) -> pd.DataFrame:
    q = found.quadrature
    return pd.DataFrame({"probe": q.probe.astype(np.int64), "node": q.nodes, "weight": q.weights})
