"""The curvature of the whole network at its trained weights, at any size: the Hessian's
spectrum (exact up to a size, matrix-free beyond), sharpness measures, and 1-D cuts along
the top eigenvectors against the quadratic model.

- spectrum: with P <= full_max weights the full Hessian (P exact products, eigh); beyond,
  Lanczos for the top-k and bottom-k eigenpairs, Hutchinson for the trace and stochastic
  Lanczos quadrature for the density (sklandscape.analyses.spectrum);
- epsilon_sharpness: Keskar et al. (2017), the largest rise of the loss in the box
  |z_i| <= epsilon (|theta_i| + 1), by projected quasi-Newton ascent (L-BFGS-B, as they
  did), as 100 (max L - L) / (1 + L);
- eigen_cuts: the loss along theta + t v for each top eigenvector v, with the second-order
  model L + (g.v) t + lambda t^2 / 2 beside it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sklandscape.analyses.curvature import eigenvalue_tolerance, hessian_report
from sklandscape.analyses.spectrum import (
    Eigenpairs,
    HessianOperator,
    Quadrature,
    bottom_eigenpairs,
    exact_quadrature,
    exact_trace,
    extreme_eigenpairs,
    hutchinson_trace,
    stochastic_lanczos_quadrature,
)
from sklandscape.engine.landscape import parameter_measures
from sklandscape.model.gradients import loss_and_gradient
from sklandscape.model.network import Network
from sklandscape.progress import ProgressLog

log = logging.getLogger("sklandscape")

# Defaults of the curvature analysis' settings (the config schema repeats them).
SETTINGS = {"full_hessian_max_weights": 1500, "top_k": 5, "trace_probes": 100,
            "density_probes": 4, "lanczos_steps": 80, "bottom_max_products": 1000, "random_state": 0,
            "sharpness_epsilon": 1e-3, "sharpness_steps": 20, "cut_points": 41}


NEGATIVE_RESOLUTION = 1e-4  # relative to lambda_max: the matrix-free density's zero


@dataclass(frozen=True)
class Spectrum:
    """What the curvature analysis knows of the Hessian at the trained weights."""

    method: str  # "exact" (full Hessian) or "matrix-free"
    size: int
    top: Eigenpairs  # the k largest, ascending
    bottom: Eigenpairs  # the k smallest, ascending
    trace: float
    trace_error: float  # the estimator's standard error (0 when exact)
    quadrature: Quadrature
    tolerance: float  # eigenvalues above it count as positive
    products: int  # Hessian-vector products it took
    matrix: np.ndarray | None = None  # only when exact
    values: np.ndarray | None = None  # every eigenvalue, only when exact
    vectors: np.ndarray | None = None
    symmetry_error: float = 0.0
    bottom_resolution: float = 0.0  # the bottom values are known to ± this (0: exact)

    @property
    def lambda_max(self) -> float:
        return float(self.top.values[-1])

    @property
    def lambda_min(self) -> float:
        """The smallest eigenvalue found (nan if the bottom did not converge at all)."""
        return float(self.bottom.values[0]) if len(self.bottom.values) else float("nan")

    @property
    def lambda_min_bound(self) -> float:
        """An upper bound on the smallest eigenvalue: the smallest found, or else the smallest
        Ritz value of the density's Lanczos runs (every Ritz value is >= the smallest)."""
        found = self.lambda_min
        return found if np.isfinite(found) else float(self.quadrature.nodes.min())

    @property
    def condition(self) -> float:
        low = self.lambda_min
        return self.lambda_max / low if low > 0 else float("inf")

    def negative_share(self) -> float:
        """Share of the eigenvalues below zero: exact, or for the matrix-free density those
        below -1e-4 lambda_max (closer to zero the quadrature cannot tell them from zero)."""
        if self.method == "exact":
            return self.quadrature.negative_share(self.tolerance)
        return self.quadrature.negative_share(max(self.tolerance, NEGATIVE_RESOLUTION
                                                  * abs(self.lambda_max)))


def spectrum(net: Network, X, y, settings: dict, label: str = "curvature",
             n_jobs=None) -> Spectrum:
    """The Hessian's spectrum at the trained weights; exact when P <= full_hessian_max_weights.
    Matrix-free, `n_jobs` threads share each Hessian-vector product's rows."""
    settings = SETTINGS | {k: v for k, v in settings.items() if v is not None}
    size, k = len(net.flat), int(settings["top_k"])
    rtol = settings.get("eigenvalue_rtol")
    if size <= int(settings["full_hessian_max_weights"]):
        log.info("%s: the full %d x %d Hessian (%d exact products)", label, size, size, size)
        report = hessian_report(net, X, y, rtol=rtol)
        values, vectors = report.eigenvalues, report.eigenvectors
        k = min(k, size)
        return Spectrum(
            "exact", size, Eigenpairs(values[-k:], vectors[:, -k:], True),
            Eigenpairs(values[:k], vectors[:, :k], True), float(np.sum(values)), 0.0,
            exact_quadrature(values), report.tolerance, size, report.matrix, values, vectors,
            report.symmetry_error)
    probes, steps = int(settings["trace_probes"]), int(settings["lanczos_steps"])
    density = int(settings["density_probes"])
    piecewise = net.activation in ("relu", "identity")  # exact trace, no probes
    expected = 30 * k + (0 if piecewise else probes) + density * steps
    progress = ProgressLog(f"{label}: matrix-free", unit="Hessian-vector products (estimate)")
    op = HessianOperator(net, X, y, progress=lambda done: progress(min(done, expected - 1),
                                                                   expected), n_jobs=n_jobs)
    seed = int(settings["random_state"])
    log.info("%s: %d weights > full_hessian_max_weights %d: matrix-free (Lanczos top/bottom %d, "
             "Hutchinson %d probes, SLQ %d x %d steps)", label, size,
             settings["full_hessian_max_weights"], k, probes, density, steps)
    top = extreme_eigenpairs(op, k, "LA", seed)
    log.info("%s: top %d eigenvalues %s (%d products)", label, k,
             np.array2string(top.values, precision=4), op.products)
    trace = exact_trace(op) or hutchinson_trace(op, probes, seed + 2)
    log.info("%s: trace %.6g%s", label, trace.value,
             f" ± {trace.standard_error:.2g} (Hutchinson, {probes} probes)"
             if trace.standard_error else " (exact: Gauss-Newton diagonal, relu network)")
    # The quadrature's Lanczos runs also hold the bottom's Krylov space: the bottom goes on
    # from them (on digits [256, 256], 112 more products instead of 294 from scratch).
    quadrature, krylov = stochastic_lanczos_quadrature(op, density, steps, seed + 3,
                                                       subspace=True)
    resolution = NEGATIVE_RESOLUTION * abs(top.values[-1])
    bottom = bottom_eigenpairs(op, k, resolution, seed + 1, int(settings["bottom_max_products"]),
                               start=krylov)
    del krylov
    if not bottom.converged:
        log.info("%s: %d of the bottom %d eigenvalues converged to ± %.2g within "
                 "bottom_max_products %d", label, len(bottom.values), k, resolution,
                 settings["bottom_max_products"])
    elif abs(bottom.values[0]) <= resolution:
        log.info("%s: the bottom %d eigenvalues crowd around zero: the smallest, %.3g, is "
                 "within the resolution ± %.2g (1e-4 lambda_max) of it (%d products)", label, k,
                 bottom.values[0], resolution, op.products)
    else:
        log.info("%s: bottom %d eigenvalues %s ± %.2g (%d products)", label, k,
                 np.array2string(bottom.values, precision=4), resolution, op.products)
    progress(expected, expected)
    tolerance = eigenvalue_tolerance(np.concatenate([top.values, bottom.values]), rtol)
    return Spectrum("matrix-free", size, top, bottom, trace.value, trace.standard_error,
                    quadrature, tolerance, op.products, bottom_resolution=resolution)


@dataclass(frozen=True)
class Sharpness:
    epsilon: float
    loss: float
    sharpest_loss: float  # the largest loss found in the box
    value: float  # 100 (sharpest - loss) / (1 + loss)
    iterations: int
    heldout_loss: float = float("nan")
    heldout_sharpest_loss: float = float("nan")


def epsilon_sharpness(net: Network, X, y, epsilon: float, steps: int,
                      heldout=None) -> Sharpness:
    """Keskar et al.'s epsilon-sharpness in the full weight space, by projected L-BFGS-B ascent
    from the box corner the gradient points to; with `heldout` (X, y) also the held-out loss
    at the trained and at the sharpest point."""
    from scipy.optimize import minimize

    theta = net.flat
    box = epsilon * (np.abs(theta) + 1.0)
    loss, gradient = loss_and_gradient(net, theta, X, y)
    start = box * np.where(gradient < 0, -1.0, 1.0)
    best = {"loss": -np.inf, "z": start}

    def negative(z):
        value, grad = loss_and_gradient(net, theta + z, X, y)
        if value > best["loss"]:
            best["loss"], best["z"] = float(value), z.copy()
        return -float(value), -grad

    found = minimize(negative, start, jac=True, method="L-BFGS-B",
                     bounds=np.stack([-box, box], axis=1), options={"maxiter": int(steps)})
    sharpest = best["loss"]
    result = Sharpness(float(epsilon), float(loss), sharpest,
                       100.0 * (sharpest - float(loss)) / (1.0 + float(loss)), int(found.nit))
    if heldout is None:
        return result
    held = parameter_measures(net, *heldout, np.stack([theta, theta + best["z"]]))["loss"]
    return Sharpness(**{**result.__dict__, "heldout_loss": float(held[0]),
                        "heldout_sharpest_loss": float(held[1])})


def eigen_cuts(net: Network, X, y, pairs: Eigenpairs, points: int = 41, heldout=None
               ) -> pd.DataFrame:
    """The loss along theta + t v for each eigenvector v of `pairs` (largest first), with the
    second-order model L + (g.v) t + lambda t^2 / 2.

    Each cut reaches |t| where the quadratic term alone doubles the loss (lambda t^2 / 2 = L),
    so that every cut shows its curvature at the same scale, capped at |theta|.
    """
    theta = net.flat
    loss, gradient = loss_and_gradient(net, theta, X, y)
    cap = max(float(np.linalg.norm(theta)), 1e-12)
    frames = []
    for rank, (value, vector) in enumerate(zip(pairs.values[::-1], pairs.vectors.T[::-1])):
        reach = cap if value <= 0 else min(cap, float(np.sqrt(2 * max(loss, 1e-300) / value)))
        t = np.linspace(-reach, reach, points)
        flats = theta[None, :] + t[:, None] * vector[None, :]
        slope = float(gradient @ vector)
        frame = pd.DataFrame({"rank": np.int64(rank), "eigenvalue": float(value), "t": t,
                              **parameter_measures(net, X, y, flats),
                              "quadratic": loss + slope * t + 0.5 * value * t * t})
        if heldout is not None:
            frame["loss_heldout"] = parameter_measures(net, *heldout, flats)["loss"]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
