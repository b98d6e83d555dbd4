"""One function per pipeline stage: files in, files out, a dict of metrics back.

Workflow scripts call exactly one of these inside their MLflow run; tests call them
directly, without Snakemake.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np
import pandas as pd

from losscape import io
from losscape.api import grids
from losscape.api.inputs import class_indices, scored
from losscape.data.datasets import (
    generate,
    generating_function,
    holdout_split,
    split_xy,
    user_dataset,
)
from losscape.model.network import Network, saturated_share
from losscape.model.training import fit_mlp, scores
from losscape.progress import ProgressLog

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
    split = training_split(y, settings)
    train_rows = split["train"] if split else slice(None)
    progress = ProgressLog(f"training ({settings.get('solver', 'adam')})", chunks=False,
                           unit="iterations of max_iter (it may converge sooner)")
    result = fit_mlp(X[train_rows], y[train_rows], settings, record=record, progress=progress)
    for message in result.warnings:
        log.warning("ConvergenceWarning: %s", message)
    if split:
        heldout = split["heldout"]
        result.scores |= {f"heldout_{k}": v
                          for k, v in scores(result.model, X[heldout], y[heldout]).items()}
        log.info("held out %d of %d rows (seed %d): %s", len(heldout), len(y), split["seed"],
                 result.summary())
    net = Network.from_estimator(result.model)
    saturated = saturated_share(net, X[train_rows])
    result.scores["saturated_share"] = saturated
    if saturated > SATURATION_WARNING:
        result.saturation = (
            f"{saturated:.0%} of the hidden units' pre-activations on the training data are "
            f"saturated ({net.activation}): its landscapes will be flat along most weights; "
            "scale the inputs (scaling: standard) or the target")
        log.warning("saturation: %s", result.saturation)
    io.write_model(result.model, model_path)
    io.write_weights(net, weights_path, {"training": settings, **({"split": split} if split else {})})
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


# Above this share of saturated hidden pre-activations a trained network gets a warning.
SATURATION_WARNING = 0.9


def training_split(y, settings: dict) -> dict | None:
    """The rows a network trains on and those it holds out (`holdout`: a seeded share,
    stratified by class for a classifier); None without a held-out share."""
    share = settings.get("holdout")
    if not share:
        return None
    seed = int(settings.get("holdout_seed", 0))
    labels = y if settings.get("estimator") == "classifier" else None
    train, heldout = holdout_split(len(y), float(share), seed, labels)
    return {"share": float(share), "seed": seed, "train": train.tolist(),
            "heldout": heldout.tolist()}


def weights_landscape(weights_path, data_path, out_path, spec: dict, config_hash: str,
                      tile: tuple[int, int] | None = None) -> dict:
    """MSE over two named weights, every other weight at its trained value.

    `tile` = (index, count) writes only that tile's rows of the grid (see gather_landscape).
    """
    data = network_data(weights_path, data_path)
    stream = grids.weights_stream(data.scored(spec), data.X, data.y, spec, tile, data.heldout(),
                                  data.rows(spec), weights_file=weights_path,
                                  config_hash=config_hash)
    return _write_landscape(stream, out_path)


def input_space_landscape(weights_path, data_path, out_path, spec: dict,
                          target_function: str | None, config_hash: str,
                          tile: tuple[int, int] | None = None) -> dict:
    """Squared error over the input plane, against the dataset's generating function.

    A user's data has none: there the target at a grid point is y of the nearest data
    point (exact at the data, piecewise constant between), and the metadata says so.
    """
    net, X, y, data_metadata = network_data(weights_path, data_path)[:4]
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


class NetworkData(NamedTuple):
    """A network with its data: X, y as the network scores it (a classifier's labels as class
    indices into its classes), the data's metadata, and its training split (or None)."""

    net: Network
    X: np.ndarray
    y: np.ndarray
    metadata: dict
    split: dict | None
    alpha: float  # the L2 penalty it was trained with (for objective: sklearn)

    def rows(self, spec: dict) -> np.ndarray | None:
        """The rows a landscape of `spec` averages over: its `samples`, where "all" means the
        training rows of a network that holds some out."""
        if self.split and spec.get("samples", "all") == "all":
            return np.asarray(self.split["train"], dtype=np.int64)
        return None

    def scored(self, spec: dict) -> Network:
        """The network scored by the landscape's objective (with its training alpha)."""
        return scored(self.net, spec.get("objective"), self.alpha)

    def heldout(self) -> tuple[np.ndarray, np.ndarray] | None:
        if not self.split:
            return None
        rows = np.asarray(self.split["heldout"], dtype=np.int64)
        return self.X[rows], self.y[rows]


def network_data(weights_path, data_path) -> NetworkData:
    """The network, its data as it scores them, and its training split."""
    net = io.read_weights(weights_path)
    trained = io.read_metadata(weights_path)  # the footer only: its split and training alpha
    frame, metadata = io.read_table(data_path)
    X, y = split_xy(frame)
    return NetworkData(net, X, network_targets(net, y, data_path), metadata,
                       trained.get("split"), float(trained.get("training", {}).get("alpha", 0.0)))


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
