"""One function per pipeline stage: files in, files out, a dict of metrics back.

Workflow scripts call exactly one of these inside their MLflow run; tests call them
directly, without Snakemake.
"""

from __future__ import annotations

import logging

import numpy as np

from losscape import io
from losscape.data import (
    generate,
    generating_function,
    nearest_neighbour_target,
    split_xy,
    user_dataset,
)
from losscape.landscape import (
    grid_frame,
    input_bounds,
    input_grid,
    input_landscape,
    select_samples,
    summarize,
    weights_grid,
    weights_slice_chunks,
)
from losscape.network import Network, mse
from losscape.progress import ProgressLog
from losscape.training import fit_mlp

log = logging.getLogger("losscape")


def make_dataset(spec: dict, out_path) -> dict:
    frame = generate(**spec)
    io.write_table(frame, out_path, {"dataset": spec})
    log.info("wrote %d rows to %s", len(frame), out_path)
    return _dataset_metrics(frame)


def import_dataset(source_path, spec: dict, expected_sha256: str, out_path) -> dict:
    """A user's CSV/Parquet file as results/data/{dataset}.parquet (x0, …, y) with its sha256."""
    from losscape.provenance import sha256_file

    digest = sha256_file(source_path)
    if expected_sha256 and digest != expected_sha256:
        raise io.DataFileError(
            f"{source_path} changed after snakemake planned this run (sha256 {digest[:12]}…, "
            f"planned {expected_sha256[:12]}…); run snakemake again"
        )
    raw = io.read_user_table(source_path)
    frame = user_dataset(raw, spec["features"], spec["target"], source_path)
    names = [c for c in frame.columns if c != "y"]
    source = {
        "path": str(source_path),
        "sha256": digest,
        "columns": {**dict(zip(names, spec["features"])), "y": spec["target"]},
    }
    io.write_table(frame, out_path, {"dataset": spec, "source": source})
    log.info("copied %d rows of %s (sha256 %s) to %s", len(frame), source_path, digest, out_path)
    return _dataset_metrics(frame)


def _dataset_metrics(frame) -> dict:
    y = frame["y"]
    return {"n_samples": len(frame), "y_mean": float(y.mean()), "y_std": float(y.std())}


def train(data_path, settings: dict, model_path, weights_path, initial_weights_path=None,
          trajectory_path=None):
    """Fit, then write the model (skops) and its weights table. Returns the FitResult.

    Given the two extra paths, the same fit also records its path: the initial weights
    (same format as the weights table) and the weights after every iteration.
    """
    frame, _ = io.read_table(data_path)
    X, y = split_xy(frame)
    record = initial_weights_path is not None or trajectory_path is not None
    result = fit_mlp(X, y, settings, record=record)
    for message in result.warnings:
        log.warning("ConvergenceWarning: %s", message)
    net = Network.from_estimator(result.model)
    io.write_model(result.model, model_path)
    io.write_weights(net, weights_path, {"training": settings})
    if record:
        path = result.trajectory
        initial = Network(net.layer_sizes, net.activation, net.out_activation, path.initial)
        if initial_weights_path is not None:
            io.write_weights(initial, initial_weights_path, {"training": settings})
        if trajectory_path is not None:
            io.write_trajectory(net, path.states, trajectory_path, {
                "training": settings, "solver": result.model.solver,
                "ends_at_fitted_weights": path.ends_at_fitted_weights})
        log.info("recorded %d states from the initial weights to the fitted ones "
                 "(ends at the fitted weights: %s)", len(path.states), path.ends_at_fitted_weights)
    log.info("trained %s in %d iterations: mse=%.3g r2=%.4f converged=%s",
             list(net.layer_sizes), result.n_iter, result.mse, result.r2, result.converged)
    return result


def weights_landscape(weights_path, data_path, out_path, spec: dict, config_hash: str) -> dict:
    """MSE over two named weights, every other weight at its trained value."""
    net = io.read_weights(weights_path)
    frame, _ = io.read_table(data_path)
    X, y = split_xy(frame)
    samples = select_samples(len(y), spec.get("samples", "all"))
    X, y = X[samples], y[samples]
    axes = tuple(spec["axes"])
    grid = weights_grid(net, axes, spec["span"], spec["resolution"])
    centre_loss = float(mse(net.predict(X), y))
    progress = ProgressLog(f"landscape {axes[0]} x {axes[1]}")
    metadata = _landscape_metadata(spec, net, weights_path, samples, config_hash)
    metadata["centre"] = {axes[0]: net.value(axes[0]), axes[1]: net.value(axes[1]),
                          "loss": centre_loss}
    frames = (grid_frame(grid, loss, start)
              for start, loss in weights_slice_chunks(net, X, y, grid, progress))
    chunks = _counting_nonfinite(frames, metadata)
    io.write_table_chunks(chunks, out_path, metadata)
    return _finish_landscape(out_path, axes, centre_loss)


# What an input landscape's `target` column is, by where the data came from.
TARGET_GENERATING = "generating function {}"
TARGET_NEAREST = "y of the nearest data point"


def input_space_landscape(weights_path, data_path, out_path, spec: dict,
                          target_function: str | None, config_hash: str) -> dict:
    """Squared error over the input plane, against the dataset's generating function.

    A user's data has none: there the target at a grid point is y of the nearest data
    point (exact at the data, piecewise constant between), and the metadata says so.
    """
    net = io.read_weights(weights_path)
    frame, data_metadata = io.read_table(data_path)
    X, y = split_xy(frame)
    # A generated dataset's domain, else the data's bounding box, widened by the margin.
    domain = data_metadata.get("dataset", {}).get("domain")
    bounds = input_bounds(X, spec.get("margin", 0.5), domain)
    grid = input_grid(bounds, spec["resolution"])
    if target_function:
        target_fn = generating_function(target_function)
        target = TARGET_GENERATING.format(target_function)
    else:
        target_fn, target = nearest_neighbour_target(X, y), TARGET_NEAREST
    table = input_landscape(net, grid, target_fn, ProgressLog("input landscape"))
    samples = np.arange(len(X))
    metadata = _landscape_metadata(spec, net, weights_path, samples, config_hash)
    metadata["bounds"] = bounds
    metadata["target"] = target
    centre = [(lo + hi) / 2 for lo, hi in bounds]
    centre_loss = float(table["loss"].iloc[_nearest_index(grid, centre)])
    metadata["centre"] = {"x0": centre[0], "x1": centre[1], "loss": centre_loss}
    io.write_table_chunks(_counting_nonfinite([table], metadata), out_path, metadata)
    return _finish_landscape(out_path, ("x0", "x1"), centre_loss)


def _counting_nonfinite(chunks, metadata: dict):
    """Pass chunks through, keeping in `metadata` how many loss cells are NaN or ±inf.

    The count lands in the file's footer, written after the last chunk, so a reader
    learns it without scanning the table.
    """
    metadata["n_nonfinite"] = 0
    for chunk in chunks:
        metadata["n_nonfinite"] += int((~np.isfinite(chunk["loss"].to_numpy())).sum())
        yield chunk


def _nearest_index(grid, point) -> int:
    i = int(np.argmin(np.abs(grid.first - point[0])))
    j = int(np.argmin(np.abs(grid.second - point[1])))
    return i * len(grid.second) + j


def _landscape_metadata(spec, net: Network, weights_path, samples, config_hash) -> dict:
    return {
        "landscape": spec,
        "network": {
            "name": spec["network"],
            "layer_sizes": list(net.layer_sizes),
            "activation": net.activation,
            "out_activation": net.out_activation,
            "weights_file": str(weights_path),
        },
        "samples": samples.tolist(),
        "n_samples": int(len(samples)),
        "config_hash": config_hash,
    }


def _finish_landscape(out_path, axes, centre_loss) -> dict:
    frame, _ = io.read_table(out_path, columns=[*axes, "loss"])
    stats = summarize(frame, axes)
    stats["loss_centre"] = centre_loss
    log.info("landscape written to %s: %s", out_path, stats)
    return stats
