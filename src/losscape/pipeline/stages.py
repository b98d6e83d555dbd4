"""One function per pipeline stage: files in, files out, a dict of metrics back.

Workflow scripts call exactly one of these inside their MLflow run; tests call them
directly, without Snakemake.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from losscape import io
from losscape.api import grids
from losscape.api.inputs import class_indices
from losscape.data.datasets import generate, generating_function, split_xy, user_dataset
from losscape.model.network import Network
from losscape.model.training import fit_mlp

log = logging.getLogger("losscape")


def bundled_dataset(spec: dict, out_path) -> dict:
    """One of scikit-learn's bundled sets as results/data/{dataset}.parquet (x0, …, y), the
    features' and the target's own names in its metadata."""
    from losscape.data.bundled import load_bundled

    data = load_bundled(spec["sklearn"], spec.get("features"))
    frame = data.frame()
    io.write_table(frame, out_path, {"dataset": spec, "source": {
        "sklearn": data.name, "columns": data.columns()}})
    log.info("wrote %d rows of scikit-learn's %s to %s", len(frame), data.name, out_path)
    return _dataset_metrics(frame)


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
    if not pd.api.types.is_numeric_dtype(y):  # class labels
        return {"n_samples": len(frame), "n_classes": int(y.nunique()),
                "largest_class_share": float(y.value_counts(normalize=True).iloc[0])}
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
        initial = net.with_flat(path.initial)
        if initial_weights_path is not None:
            io.write_weights(initial, initial_weights_path, {"training": settings})
        if trajectory_path is not None:
            io.write_trajectory(net, path.states, trajectory_path, {
                "training": settings, "solver": result.mlp.solver,
                "ends_at_fitted_weights": path.ends_at_fitted_weights})
        log.info("recorded %d states from the initial weights to the fitted ones "
                 "(ends at the fitted weights: %s)", len(path.states), path.ends_at_fitted_weights)
    log.info("trained %s in %d iterations: %s, converged=%s",
             list(net.layer_sizes), result.n_iter, result.summary(), result.converged)
    return result


def weights_landscape(weights_path, data_path, out_path, spec: dict, config_hash: str,
                      tile: tuple[int, int] | None = None) -> dict:
    """MSE over two named weights, every other weight at its trained value.

    `tile` = (index, count) writes only that tile's rows of the grid (see gather_landscape).
    """
    net, X, y, _ = network_data(weights_path, data_path)
    stream = grids.weights_stream(net, X, y, spec, tile, weights_file=weights_path,
                                  config_hash=config_hash)
    return _write_landscape(stream, out_path)


def input_space_landscape(weights_path, data_path, out_path, spec: dict,
                          target_function: str | None, config_hash: str,
                          tile: tuple[int, int] | None = None) -> dict:
    """Squared error over the input plane, against the dataset's generating function.

    A user's data has none: there the target at a grid point is y of the nearest data
    point (exact at the data, piecewise constant between), and the metadata says so.
    """
    net, X, y, data_metadata = network_data(weights_path, data_path)
    if target_function:
        target = generating_function(target_function)
        described = grids.TARGET_GENERATING.format(target_function)
    else:
        target, described = None, grids.TARGET_NEAREST
    stream = grids.input_stream(net, X, y, spec, target, described,
                                data_metadata.get("dataset", {}).get("domain"), tile,
                                feature_names=feature_names(data_metadata, X.shape[1]),
                                weights_file=weights_path, config_hash=config_hash)
    return _write_landscape(stream, out_path)


def network_data(weights_path, data_path):
    """The network, X, y as the network scores it (a classifier's labels as class indices
    into its classes) and the data's metadata."""
    net = io.read_weights(weights_path)
    frame, metadata = io.read_table(data_path)
    X, y = split_xy(frame)
    return net, X, network_targets(net, y, data_path), metadata


def network_targets(net, y, source="the data"):
    if not net.is_classifier:
        return np.asarray(y, dtype=np.float64)
    try:
        return class_indices(y, net.classes, net.n_classes)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None


def feature_names(data_metadata: dict, n_features: int) -> list[str]:
    """The features' own names (a bundled set's or a user's columns), else x0, x1, …"""
    columns = data_metadata.get("source", {}).get("columns", {})
    return [str(columns.get(f"x{k}", f"x{k}")) for k in range(n_features)]


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
    return _write_landscape(grids.GridStream(columns, chunks, metadata, axes), out_path)


def _write_landscape(stream: grids.GridStream, out_path) -> dict:
    """Write the rows as they stream by, keeping their summary (min, max, ...)."""
    stats = grids.drain(stream, lambda chunks, columns, metadata: io.write_columns(
        chunks, out_path, columns, metadata))
    log.info("landscape written to %s: %s", out_path, stats)
    return stats
