"""The direction kinds (weight_pairs, random_plane, interpolation, trajectory_pca) from arrays:
each returns a Result with its tables, metrics and figures. The pipeline's direction stages
read the files, call these, and write what they return.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from sklandscape.api.display import InterpolationDisplay
from sklandscape.api.grids import heldout_metadata, landscape_metadata
from sklandscape.api.result import Result
from sklandscape.directions.planes import (
    MAX_CORNER_WEIGHTS,
    cosine,
    interpolation_alphas,
    interpolation_points,
    random_plane,
    trajectory_plane,
    weight_pairs,
)
from sklandscape.engine.landscape import (
    axis_values,
    parameter_losses,
    parameter_measures,
    plane_grid,
    plane_measures,
    select_samples,
    weights_grid,
)
from sklandscape.engine.slice_statistics import slice_statistics
from sklandscape.engine.structured import weights_slice_grid
from sklandscape.figures import directions as directions_plots
from sklandscape.figures import planes as planes_plots
from sklandscape.figures.drawing import display_figure, loss_of, samples_description
from sklandscape.figures.heldout import train_heldout_figure
from sklandscape.model.network import Network
from sklandscape.progress import ProgressLog, part_of

log = logging.getLogger("sklandscape")

# Statistics whose spread across seeds says whether a random plane's picture depends on it.
SEED_SPREAD_STATISTICS = ("loss_min", "loss_max", "loss_mean", "loss_median", "drop",
                          "range_a", "range_b", "anisotropy", "cosine_d1_d2")


PAIR_STATS_COLUMNS = (
    "One row per pair; click a column header to sort. x/y: the pair's first/second weight; "
    "drop = loss at the trained weights - lowest loss on the slice; range_x/range_y: "
    "max - min of the loss along the line through the trained point; anisotropy = "
    "larger range / smaller range.")
SEED_STATS_COLUMNS = (
    "One row per seed; click a column header to sort. cosine_d1_d2: the cosine of the two "
    "random directions; drop = loss at the trained weights - lowest loss on the plane; "
    "range_a/range_b: max - min of the loss along each axis through the trained point; "
    "anisotropy = larger range / smaller range.")


def _rows(X, y, spec, samples=None):
    if samples is None:
        samples = select_samples(len(y), spec.get("samples", "all"))
    return X[samples], y[samples], samples


def _flat_columns(found: dict, suffix: str = "") -> dict[str, np.ndarray]:
    """A measures dict (loss; a classifier's accuracy) as table columns, e.g. loss_heldout."""
    return {f"{key}{suffix}": np.ravel(value) for key, value in found.items()}


def _heldout_meta(metadata, net, heldout) -> None:
    if heldout is not None:
        metadata["heldout"] = heldout_metadata(net, *heldout)


def _title_prefix(metadata, name: str) -> str:
    return (f"{name}: {loss_of(metadata)} of {metadata['network']['name']} on "
            f"{samples_description(metadata)}")


def _finite(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if not (isinstance(v, float) and math.isnan(v))}


def _with_heldout(metrics: dict, table: pd.DataFrame, metadata: dict) -> dict:
    """The held-out loss at the trained weights and its lowest value on the table."""
    if "loss_heldout" not in table.columns:
        return metrics
    values = table["loss_heldout"].to_numpy(float)
    finite = values[np.isfinite(values)]
    return metrics | {"heldout_loss_centre": metadata["heldout"]["loss"],
                      "heldout_loss_min": float(finite.min()) if finite.size else math.nan}


# --- weight_pairs ------------------------------------------------------------------------


def weight_pairs_result(net: Network, X, y, spec: dict, name: str, heldout=None, samples=None,
                        n_jobs: int | None = None, **provenance) -> Result:
    """The slice over every listed pair of weights (structured engine), its statistics and
    the corner plot.

    Table: one row per grid point of every pair: x_name, y_name, x, y (absolute weight
    values), loss; pairs one after another, x the slow axis inside each.
    """
    X, y, samples = _rows(X, y, spec, samples)
    pairs = weight_pairs(net.layer_sizes, spec.get("axes", "all"))
    involved = {n for pair in pairs for n in pair}
    if len(involved) > MAX_CORNER_WEIGHTS:
        raise ValueError(
            f"landscape {name}: {len(pairs)} pairs of {len(involved)} weights is more than a "
            f"corner plot can show ({MAX_CORNER_WEIGHTS} weights at most); list the weights "
            f"to pair under `axes` (network {spec['network']} has {len(net.names)})")
    loss_centre = net.loss(X, y)
    rows, frames = [], []
    progress = ProgressLog(f"weight_pairs {name}")
    passes = 2 if heldout is not None else 1  # cells computed per pair: training, held out
    for k, (xn, yn) in enumerate(pairs, start=1):
        grid = weights_grid(net, (xn, yn), spec["span"], spec["resolution"])
        total, before = passes * len(pairs) * grid.size, passes * (k - 1) * grid.size
        found = weights_slice_grid(net, X, y, grid, part_of(progress, before, total), n_jobs)
        loss = found["loss"]
        rows.append({"x_name": xn, "y_name": yn, **slice_statistics(
            grid.first, grid.second, loss, (net.value(xn), net.value(yn)), loss_centre)})
        points = grid.points()
        frame = pd.DataFrame({"x_name": xn, "y_name": yn, "x": points[:, 0], "y": points[:, 1],
                              **_flat_columns(found)})
        if heldout is not None:
            held = weights_slice_grid(net, *heldout, grid,
                                      part_of(progress, before + grid.size, total), n_jobs)
            frame = frame.assign(**_flat_columns(held, "_heldout"))
        frames.append(frame)
        log.info("pair %d/%d: %s x %s, min %.4g", k, len(pairs), xn, yn, rows[-1]["loss_min"])
    names = sorted(involved, key=net.index)
    metadata = landscape_metadata(spec, net, samples, **provenance)
    _heldout_meta(metadata, net, heldout)
    metadata["pairs"] = [list(p) for p in pairs]
    metadata["centre"] = {n: net.value(n) for n in names} | {"loss": loss_centre}
    table = pd.concat(frames, ignore_index=True)
    stats = pd.DataFrame(rows)
    title = (f"{_title_prefix(metadata, name)}, for {len(pairs)} pairs of its "
             f"{len(net.names)} weights (each ±{spec['span']:g} around its trained value)")
    finite_anisotropy = stats["anisotropy"].replace(math.inf, np.nan)
    metrics = {
        "n_pairs": len(pairs),
        "loss_centre": loss_centre,
        "loss_min": float(stats["loss_min"].min()),
        "loss_max": float(stats["loss_max"].max()),
        "drop_max": float(stats["drop"].max()),
        "pairs_min_at_centre": float(stats["min_at_centre"].sum()),
        "anisotropy_max": float(finite_anisotropy.max()),
        "anisotropy_median": float(finite_anisotropy.median()),
        "n_nonfinite": int(stats["n_nonfinite"].sum()),
    }
    corner_title = (f"{title}; in each panel the other {len(net.names) - 2} weights are held "
                    f"at their trained values")
    return Result(
        "weight_pairs", name, {"landscape": table, "stats": stats},
        {"landscape": metadata, "stats": metadata},
        _finite(_with_heldout(metrics, table, metadata)),
        figures={"corner": lambda: directions_plots.corner_plot(
            table, names, metadata["centre"], title=corner_title,
            loss_name=loss_of(metadata))},
        captions={"stats": title, "stats.columns": PAIR_STATS_COLUMNS},
    )


# --- random_plane ------------------------------------------------------------------------


def random_plane_result(net: Network, X, y, spec: dict, name: str, heldout=None, samples=None,
                        n_jobs: int | None = None, **provenance) -> Result:
    """Loss over theta + a d1 + b d2 for filter-normalised random (d1, d2), one plane per seed.

    Tables: the grid (seed, a, b, loss), the directions (seed, name, d1, d2) and one row of
    statistics per seed; figures: the first seed's plane and the spread across seeds.
    """
    X, y, samples = _rows(X, y, spec, samples)
    seeds, zero_biases = list(spec["seeds"]), bool(spec.get("zero_biases", True))
    values = axis_values(0.0, spec["span"], spec["resolution"])
    grid = plane_grid(values, values)
    loss_centre = net.loss(X, y)
    planes, frames, directions, rows, heldout_planes = {}, [], [], [], {}
    progress = ProgressLog(f"random_plane {name}")
    passes = 2 if heldout is not None else 1  # cells computed per seed: training, held out
    total = passes * len(seeds) * grid.size
    for k, seed in enumerate(seeds, start=1):
        d1, d2 = random_plane(net, seed, zero_biases)
        before = passes * (k - 1) * grid.size
        found = plane_measures(net, X, y, grid, net.flat, (d1, d2),
                               part_of(progress, before, total), n_jobs=n_jobs)
        loss = planes[seed] = found["loss"]
        points = grid.points()
        frame = pd.DataFrame({"seed": np.int64(seed), "a": points[:, 0], "b": points[:, 1],
                              **_flat_columns(found)})
        if heldout is not None:
            held = plane_measures(net, *heldout, grid, net.flat, (d1, d2),
                                  part_of(progress, before + grid.size, total), n_jobs=n_jobs)
            heldout_planes[seed] = held["loss"]
            frame = frame.assign(**_flat_columns(held, "_heldout"))
        frames.append(frame)
        directions.append(pd.DataFrame({"seed": np.int64(seed), "name": net.names, "d1": d1,
                                        "d2": d2}))
        rows.append({"seed": seed, "cosine_d1_d2": cosine(d1, d2),
                     "norm_d1": float(np.linalg.norm(d1)), "norm_d2": float(np.linalg.norm(d2)),
                     **slice_statistics(grid.first, grid.second, loss, (0.0, 0.0), loss_centre,
                                        axis_names=("a", "b"))})
        log.info("seed %d: min %.4g, max %.4g", seed, rows[-1]["loss_min"], rows[-1]["loss_max"])
    metadata = landscape_metadata(spec, net, samples, **provenance)
    metadata["centre"] = {"a": 0.0, "b": 0.0, "loss": loss_centre}
    _heldout_meta(metadata, net, heldout)
    stats = pd.DataFrame(rows)
    biases = "bias entries zeroed" if zero_biases else "biases normalised with their neuron"
    what = (f"{_title_prefix(metadata, name)} over theta + a·d1 + b·d2: "
            f"theta = trained weights, d1, d2 = filter-normalised Gaussian directions "
            f"({biases})")
    first = seeds[0]
    metrics = {"n_seeds": len(seeds), "loss_centre": loss_centre}
    metrics |= {k: rows[0][k] for k in ("loss_min", "loss_max", "loss_mean", "anisotropy",
                                        "cosine_d1_d2") if np.isfinite(rows[0][k])}
    for stat in SEED_SPREAD_STATISTICS:
        column = stats[stat].replace([math.inf, -math.inf], np.nan)
        mean, std = float(column.mean()), float(column.std(ddof=0))
        metrics[f"seeds.{stat}.mean"], metrics[f"seeds.{stat}.std"] = mean, std
        if mean and stat not in directions_plots.SIGNED_STATISTICS:
            metrics[f"seeds.{stat}.cv"] = std / abs(mean)
    return Result(
        "random_plane", name,
        {"landscape": pd.concat(frames, ignore_index=True),
         "directions": pd.concat(directions, ignore_index=True), "stats": stats},
        {"landscape": metadata, "directions": metadata, "stats": metadata},
        _finite(_with_heldout(metrics, frames[0], metadata)),
        figures={
            "plane": lambda: planes_plots.random_plane_figure(
                grid.first, grid.second, planes[first], loss_centre,
                title=f"{what}, seed {first}; cosine(d1, d2) = {rows[0]['cosine_d1_d2']:.2f}",
                loss_name=loss_of(metadata))
            if heldout is None else train_heldout_figure(
                grid.first, grid.second, planes[first], heldout_planes[first], (0.0, 0.0),
                ("a (along d1)", "b (along d2)"), n_train=len(y),
                n_heldout=len(heldout[1]), title=f"{what}, seed {first}: training and "
                f"held-out {loss_of(metadata)}", loss_name=loss_of(metadata)),
            "seed_spread": lambda: planes_plots.seed_spread_figure(
                grid.first, grid.second, planes, stats, SEED_SPREAD_STATISTICS,
                title=f"{what}: does the picture depend on the seed? {len(seeds)} seeds",
                loss_name=loss_of(metadata)),
        },
        captions={"stats": f"{what}: one row per seed", "stats.columns": SEED_STATS_COLUMNS},
    )


# --- interpolation -----------------------------------------------------------------------


def interpolation_result(start: Network, net: Network, X, y, spec: dict, name: str,
                         heldout=None, samples=None, n_jobs: int | None = None,
                         **provenance) -> Result:
    """Loss along (1 - alpha) theta_initial + alpha theta_trained; table: alpha, loss."""
    initial_file = provenance.pop("initial_weights_file", None)
    X, y, samples = _rows(X, y, spec, samples)
    if start.layer_sizes != net.layer_sizes:
        raise ValueError(f"the initial weights' layer sizes {list(start.layer_sizes)} differ "
                         f"from the trained network's {list(net.layer_sizes)}")
    low, high = spec["alpha_range"]
    alphas = interpolation_alphas(low, high, spec["resolution"])
    points = interpolation_points(start.flat, net.flat, alphas)
    found = parameter_measures(net, X, y, points, ProgressLog(f"interpolation {name}"), n_jobs)
    loss = found["loss"]
    loss_initial = start.loss(X, y)
    loss_trained = net.loss(X, y)
    metadata = landscape_metadata(spec, net, samples, **provenance)
    metadata["initial_weights_file"] = None if initial_file is None else str(initial_file)
    metadata["centre"] = {"alpha": 1.0, "loss": loss_trained}
    # the start's loss, also where alpha = 0 is not on the grid (InterpolationDisplay reads it)
    metadata["initial"] = {"alpha": 0.0, "loss": loss_initial}
    _heldout_meta(metadata, net, heldout)
    table = pd.DataFrame({"alpha": alphas, **_flat_columns(found)})
    heldout_loss = None
    if heldout is not None:
        held = parameter_measures(net, *heldout, points, n_jobs=n_jobs)
        heldout_loss = held["loss"]
        table = table.assign(**_flat_columns(held, "_heldout"))
    shape = interpolation_shape(alphas, loss, loss_initial, loss_trained)
    title = (f"{_title_prefix(metadata, name)} along the straight line from its initial "
             f"weights (alpha = 0) to its trained weights (alpha = 1): "
             f"theta(alpha) = (1 - alpha)·initial + alpha·trained")
    metrics = {"loss_initial": loss_initial, "loss_trained": loss_trained,
               "distance": float(np.linalg.norm(net.flat - start.flat)), **shape}
    return Result(
        "interpolation", name, {"landscape": table},
        {"landscape": metadata}, _with_heldout(metrics, table, metadata),
        figures={"interpolation": lambda: display_figure(InterpolationDisplay(
            alphas, loss, loss_initial, loss_trained, loss_of(metadata), title, heldout_loss),
            title, (9, 5))},
    )


def interpolation_shape(alphas, loss, loss_initial: float, loss_trained: float) -> dict:
    """Is the loss monotone from initial to trained, and how high is any bump on the way?"""
    inside = (alphas >= 0.0) & (alphas <= 1.0)
    between = np.concatenate([[loss_initial], loss[inside], [loss_trained]])
    steps = np.diff(between)
    finite = np.isfinite(loss)
    at_min = int(np.argmin(np.where(finite, loss, np.inf)))
    return {
        "monotone_between": float(bool(np.all(steps <= 0))),
        "max_rise_between": float(max(0.0, np.max(steps))),
        "barrier": float(max(0.0, np.max(between) - max(loss_initial, loss_trained))),
        "loss_min": float(loss[at_min]),
        "argmin_alpha": float(alphas[at_min]),
    }


# --- trajectory_pca ----------------------------------------------------------------------


def trajectory_pca_result(iterations, states, solver, net: Network, X, y, spec: dict,
                          name: str, heldout=None, samples=None, n_jobs: int | None = None,
                          **provenance) -> Result:
    """Loss on the PCA plane of the training path, and the path seen from that plane.

    Tables: the grid (a, b, loss) and the path: iteration, a, b, distance (from the plane),
    offset (from the trained weights), relative_distance = distance / offset, loss (at the
    real weights) and loss_projected (at their projection onto the plane, what a contour
    map shows under that point).
    """
    trajectory_file = provenance.pop("trajectory_file", None)
    X, y, samples = _rows(X, y, spec, samples)
    if states.shape[1] != net.flat.size or not np.array_equal(states[-1], net.flat):
        raise ValueError("the training path does not end at the trained weights: the two come "
                         "from different trainings; record the path of the fit that made them")
    plane = trajectory_plane(states, net.flat)
    grid = plane_grid(*_padded_axes(plane.coordinates, spec.get("margin", 0.25),
                                    spec["resolution"]))
    found = plane_measures(net, X, y, grid, net.flat, tuple(plane.directions),
                           ProgressLog(f"trajectory_pca {name}"), n_jobs=n_jobs)
    loss = found["loss"]
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(plane.offsets > 0, plane.distances / plane.offsets, np.nan)
    path = pd.DataFrame({
        "iteration": iterations, "a": plane.coordinates[:, 0], "b": plane.coordinates[:, 1],
        "distance": plane.distances, "offset": plane.offsets, "relative_distance": relative,
        "loss": parameter_losses(net, X, y, states),
        "loss_projected": parameter_losses(net, X, y, plane.projected),
    })
    grid_table = pd.DataFrame({"a": grid.points()[:, 0], "b": grid.points()[:, 1],
                               **_flat_columns(found)})
    if heldout is not None:
        path["loss_heldout"] = parameter_losses(net, *heldout, states)
        grid_table = grid_table.assign(**_flat_columns(plane_measures(
            net, *heldout, grid, net.flat, tuple(plane.directions), n_jobs=n_jobs), "_heldout"))
    metadata = landscape_metadata(spec, net, samples, **provenance)
    metadata |= {"trajectory_file": None if trajectory_file is None else str(trajectory_file),
                 "solver": solver, "explained": plane.explained.tolist(),
                 "directions": {"d1": plane.directions[0].tolist(),
                                "d2": plane.directions[1].tolist(), "names": net.names},
                 "centre": {"a": 0.0, "b": 0.0, "loss": net.loss(X, y)}}
    _heldout_meta(metadata, net, heldout)
    title = (f"{_title_prefix(metadata, name)} on the PCA plane of its training path ({solver}, "
             f"{len(path) - 1} iterations) through the trained weights; path points coloured "
             f"by their distance from the plane")
    return Result(
        "trajectory_pca", name,
        {"landscape": grid_table, "path": path},
        {"landscape": metadata, "path": metadata},
        _with_heldout(trajectory_metrics(plane, path), grid_table, metadata),
        figures={"trajectory_pca": lambda: directions_plots.trajectory_pca_figure(
            grid.first, grid.second, loss, path, plane.explained, title=title,
            loss_name=loss_of(metadata))},
    )


def _padded_axes(coordinates: np.ndarray, margin: float, resolution: int):
    low, high = coordinates.min(axis=0), coordinates.max(axis=0)
    pad = margin * max(float(np.max(high - low)), 1e-12)  # same pad on both: thin paths show
    return (np.linspace(low[0] - pad, high[0] + pad, resolution),
            np.linspace(low[1] - pad, high[1] + pad, resolution))


def trajectory_metrics(plane, path: pd.DataFrame) -> dict:
    gap = (path["loss"] - path["loss_projected"]).abs()
    return {
        "n_path_points": len(path),
        "explained_pc1": float(plane.explained[0]),
        "explained_pc2": float(plane.explained[1]),
        "explained_total": float(plane.explained.sum()),
        "distance_max": float(path["distance"].max()),
        "distance_mean": float(path["distance"].mean()),
        "relative_distance_max": float(path["relative_distance"].max()),
        "offset_max": float(path["offset"].max()),
        "loss_gap_max": float(gap.max()),
        "loss_initial": float(path["loss"].iloc[0]),
        "loss_trained": float(path["loss"].iloc[-1]),
    }
