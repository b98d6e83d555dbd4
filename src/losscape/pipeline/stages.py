"""One function per pipeline stage: files in, files out, a dict of metrics back.

Workflow scripts call exactly one of these inside their MLflow run; tests call them
directly, without Snakemake.
"""

from __future__ import annotations

import logging

import numpy as np

from losscape import io
from losscape.data.datasets import (
    generate,
    generating_function,
    nearest_neighbour_target,
    split_xy,
    user_dataset,
)
from losscape.engine.landscape import (
    input_bounds,
    input_grid,
    input_rows,
    row_columns,
    select_samples,
    tile_rows,
    weights_grid,
)
from losscape.engine.structured import plan_pair, weights_slice_rows
from losscape.engine.summary import RunningSummary
from losscape.model.network import Network, mse
from losscape.model.training import fit_mlp
from losscape.progress import ProgressLog

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


def weights_landscape(weights_path, data_path, out_path, spec: dict, config_hash: str,
                      tile: tuple[int, int] | None = None) -> dict:
    """MSE over two named weights, every other weight at its trained value.

    `tile` = (index, count) writes only that tile's rows of the grid (see gather_landscape).
    """
    net = io.read_weights(weights_path)
    frame, _ = io.read_table(data_path)
    X, y = split_xy(frame)
    samples = select_samples(len(y), spec.get("samples", "all"))
    X, y = X[samples], y[samples]
    axes = tuple(spec["axes"])
    grid = weights_grid(net, axes, spec["span"], spec["resolution"])
    centre_loss = float(mse(net.predict(X), y))
    rows = _tile_rows(grid, tile)
    plan = plan_pair(net, axes)
    log.info("landscape %s x %s: %s path, rows %d..%d of %d, %d samples",
             axes[0], axes[1], plan.kind, rows.start, rows.stop - 1, grid.shape[0], len(y))
    progress = ProgressLog(f"landscape {axes[0]} x {axes[1]}")
    chunks = (
        row_columns(grid, first, {"loss": loss})
        for first, loss in weights_slice_rows(net, X, y, grid, rows, progress)
    )
    metadata = landscape_metadata(spec, net, weights_path, samples, config_hash)
    metadata["centre"] = {axes[0]: net.value(axes[0]), axes[1]: net.value(axes[1]), "loss": centre_loss}
    _record_tile(metadata, grid, tile, rows)
    return _write_landscape(chunks, out_path, [*axes, "loss"], metadata, axes)


# What an input landscape's `target` column is, by where the data came from.
TARGET_GENERATING = "generating function {}"
TARGET_NEAREST = "y of the nearest data point"


def input_space_landscape(weights_path, data_path, out_path, spec: dict,
                          target_function: str | None, config_hash: str,
                          tile: tuple[int, int] | None = None) -> dict:
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
        target = generating_function(target_function)
        described = TARGET_GENERATING.format(target_function)
    else:
        target, described = nearest_neighbour_target(X, y), TARGET_NEAREST
    rows = _tile_rows(grid, tile)
    chunks = (
        row_columns(grid, first, columns)
        for first, columns in input_rows(net, grid, target, rows, ProgressLog("input landscape"))
    )
    metadata = landscape_metadata(spec, net, weights_path, np.arange(len(X)), config_hash)
    metadata["bounds"] = bounds
    metadata["target"] = described
    # The centre's loss is the table's own cell nearest the middle, computed the same way.
    centre = [(lo + hi) / 2 for lo, hi in bounds]
    i, j = _nearest_cell(grid, centre)
    _, at_centre = next(input_rows(net, grid, target, range(i, i + 1)))
    metadata["centre"] = {"x0": centre[0], "x1": centre[1], "loss": float(at_centre["loss"][0, j])}
    _record_tile(metadata, grid, tile, rows)
    columns = ["x0", "x1", "target", "prediction", "loss"]
    return _write_landscape(chunks, out_path, columns, metadata, ("x0", "x1"))


def gather_landscape(tile_paths, out_path) -> dict:
    """Join tiles (in order) into the table one job would have written, bit for bit."""
    metas = [io.read_metadata(path) for path in tile_paths]
    first = metas[0]
    expected_rows = 0
    for path, meta in zip(tile_paths, metas):
        tile = meta.get("tile")
        if tile is None:
            raise ValueError(f"{path}: not a landscape tile (no 'tile' metadata)")
        if meta.get("config_hash") != first.get("config_hash"):
            raise ValueError(f"{path}: tile of another landscape than {tile_paths[0]}")
        if tile["count"] != len(tile_paths):
            raise ValueError(f"{path}: tile {tile['index']} of {tile['count']}, but "
                             f"{len(tile_paths)} tiles were given")
        if tile["rows"][0] != expected_rows:
            raise ValueError(f"{path}: starts at grid row {tile['rows'][0]}, expected {expected_rows}")
        expected_rows = tile["rows"][1]
    if expected_rows != first["tile"]["grid_rows"]:
        raise ValueError(f"tiles cover rows 0..{expected_rows} of {first['tile']['grid_rows']}")
    metadata = {k: v for k, v in first.items() if k != "tile"}
    columns = io.column_names(tile_paths[0])
    axes = tuple(columns[:2])
    chunks = (chunk for path in tile_paths for chunk in io.iter_columns(path, columns))
    return _write_landscape(chunks, out_path, columns, metadata, axes)


def _tile_rows(grid, tile) -> range:
    if tile is None:
        return range(grid.shape[0])
    return tile_rows(grid.shape[0], *tile)


def _nearest_cell(grid, point) -> tuple[int, int]:
    return int(np.argmin(np.abs(grid.first - point[0]))), int(np.argmin(np.abs(grid.second - point[1])))


def landscape_metadata(spec, net: Network, weights_path, samples, config_hash) -> dict:
    """What every landscape table carries in its metadata (all kinds: grid and direction)."""
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


def _record_tile(metadata, grid, tile, rows) -> None:
    """A tile's table says which rows of which grid it holds; the gathered table does not."""
    if tile is not None:
        metadata["tile"] = {"index": tile[0], "count": tile[1], "rows": [rows.start, rows.stop],
                            "grid_rows": grid.shape[0]}


def _write_landscape(chunks, out_path, columns, metadata, axes) -> dict:
    """Write the rows while keeping their summary (min, max, ...) as they stream by.

    The count of NaN or infinite losses also goes into the footer (`n_nonfinite`),
    written after the last row, so a reader learns it without scanning the table.
    """
    summary = RunningSummary(axes)

    def summarized():
        for chunk in chunks:
            summary.update(chunk)
            yield chunk
        metadata["n_nonfinite"] = summary.n_nonfinite

    io.write_columns(summarized(), out_path, columns, metadata)
    stats = summary.result()
    stats["loss_centre"] = metadata["centre"]["loss"]
    log.info("landscape written to %s: %s", out_path, stats)
    return stats
