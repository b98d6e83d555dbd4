"""The grid landscapes (weights, input) as Parquet tables, written as the rows stream by,
whole or in tiles; and a network with its data as every later stage reads them."""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np

from sklandscape import io
from sklandscape.api import grids
from sklandscape.api.inputs import class_indices, scored
from sklandscape.api.topology import (
    grid_layout,
    landscape_grids,
    threshold_of,
    too_large,
    topology_metadata,
    topology_metrics,
    topology_table,
)
from sklandscape.data.datasets import (
    generating_function,
    split_xy,
)
from sklandscape.model.network import Network

log = logging.getLogger("sklandscape")

def weights_landscape(weights_path, data_path, out_path, spec: dict, config_hash: str,
                      tile: tuple[int, int] | None = None, n_jobs: int | None = None) -> dict:
    """MSE over two named weights, every other weight at its trained value.

    `tile` = (index, count) writes only that tile's rows of the grid (see gather_landscape).
    """
    data = network_data(weights_path, data_path)
    stream = grids.weights_stream(data.scored(spec), data.X, data.y, spec, tile, data.heldout(),
                                  data.rows(spec), n_jobs, weights_file=weights_path,
                                  config_hash=config_hash)
    return _write_landscape(stream, out_path)


def input_space_landscape(weights_path, data_path, out_path, spec: dict,
                          target_function: str | None, config_hash: str,
                          tile: tuple[int, int] | None = None, n_jobs: int | None = None) -> dict:
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
                                n_jobs=n_jobs, weights_file=weights_path,
                                config_hash=config_hash)
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


def landscape_topology(landscape_path, out_path) -> tuple[dict, list]:
    """The topology of a 2-D landscape's table (every grid point, not the figure's thinned
    ones): its table written to `out_path`; its metrics and grids (for the overlays) back."""
    metadata = io.read_metadata(landscape_path)
    threshold = threshold_of(metadata["landscape"])
    columns, keys = grid_layout(None, metadata)
    resolution = metadata["landscape"]["resolution"]
    shape = resolution if isinstance(resolution, list) else (resolution, resolution)
    # decided from the metadata: reading a table too large for topology is itself too large
    skipped = too_large(shape[0] * shape[1])
    if skipped:
        log.info("topology %s", skipped)
        io.write_table(topology_table([]), out_path, topology_metadata(metadata, threshold, skipped))
        return {}, []
    table, _ = io.read_table(landscape_path, [*keys, *columns, "loss"])
    grids = landscape_grids(table, metadata, threshold)
    io.write_table(topology_table(grids), out_path, topology_metadata(metadata, threshold))
    return topology_metrics(grids), grids
