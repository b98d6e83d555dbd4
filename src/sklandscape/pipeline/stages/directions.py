"""Stages of the landscape kinds that look along chosen directions: weight_pairs,
random_plane, hessian_plane, interpolation and trajectory_pca. Files in, files (tables and
figures) out, a dict of metrics back; the computing and drawing is the public API's
(sklandscape.api).

Each kind computes and draws in one job: a job's fixed cost (Python, MLflow, SQLite) is
several times the work of these small grids, so a separate figure job would double it.
"""

from __future__ import annotations

from sklandscape import io
from sklandscape.api.directions import (
    interpolation_result,
    random_plane_result,
    trajectory_pca_result,
    weight_pairs_result,
)
from sklandscape.api.hessian_plane import hessian_plane_result
from sklandscape.api.topology import add_topology, threshold_of
from sklandscape.pipeline.stages.landscapes import network_data

STATS_CAPTION = (
    "One row per pair; click a column header to sort. x/y: the pair's first/second weight; "
    "drop = loss at the trained weights - lowest loss on the slice; range_x/range_y: "
    "max - min of the loss along the line through the trained point; anisotropy = "
    "larger range / smaller range.")


def _inputs(weights_path, data_path, spec):
    """The network, X, y, and what the network held out and the rows "all" means."""
    data = network_data(weights_path, data_path)
    return data.scored(spec), data.X, data.y, {"heldout": data.heldout(),
                                               "samples": data.rows(spec)}


def weight_pairs_landscape(weights_path, data_path, spec: dict, config_hash: str, name: str, *,
                           table, stats, topology, csv, html, figure, n_jobs=None) -> dict:
    """The slice over every listed pair of weights, its statistics, its topology and the
    corner plot."""
    net, X, y, split = _inputs(weights_path, data_path, spec)
    result = add_topology(weight_pairs_result(net, X, y, spec, name, **split, n_jobs=n_jobs,
                                              weights_file=weights_path, config_hash=config_hash),
                          threshold_of(spec))
    result.to_parquet(table)
    result.to_parquet(topology, "topology")
    result.to_parquet(stats, "stats")
    io.write_csv(result.tables["stats"], csv)
    io.write_sortable_html(result.tables["stats"], html, result.captions["stats"],
                           caption=STATS_CAPTION)
    result.save_figure(figure, "corner")
    return result.metrics


def random_plane_landscape(weights_path, data_path, spec: dict, config_hash: str, name: str, *,
                           table, directions, stats, topology, csv, figure, spread_figure, n_jobs=None) -> dict:
    """Loss over filter-normalised random planes, one per seed: tables and two figures."""
    net, X, y, split = _inputs(weights_path, data_path, spec)
    result = add_topology(random_plane_result(net, X, y, spec, name, **split, n_jobs=n_jobs,
                                              weights_file=weights_path, config_hash=config_hash),
                          threshold_of(spec))
    result.to_parquet(table)
    result.to_parquet(topology, "topology")
    result.to_parquet(directions, "directions")
    result.to_parquet(stats, "stats")
    io.write_csv(result.tables["stats"], csv)
    result.save_figure(figure, "plane")
    result.save_figure(spread_figure, "seed_spread")
    return result.metrics


def hessian_plane_landscape(weights_path, data_path, spec: dict, config_hash: str, name: str, *,
                            table, directions, topology, figure, n_jobs=None) -> dict:
    """Loss over the plane of two Hessian eigenvectors: table, directions, topology, figure."""
    net, X, y, split = _inputs(weights_path, data_path, spec)
    result = add_topology(hessian_plane_result(net, X, y, spec, name, **split, n_jobs=n_jobs,
                                               weights_file=weights_path, config_hash=config_hash),
                          threshold_of(spec))
    result.to_parquet(table)
    result.to_parquet(topology, "topology")
    result.to_parquet(directions, "directions")
    result.save_figure(figure, "plane")
    return result.metrics


def interpolation_landscape(initial_path, weights_path, data_path, spec: dict, config_hash: str,
                            name: str, *, table, figure, n_jobs=None) -> dict:
    """Loss along (1 - alpha) theta_initial + alpha theta_trained; table: alpha, loss."""
    start = io.read_weights(initial_path)
    net, X, y, split = _inputs(weights_path, data_path, spec)
    if start.layer_sizes != net.layer_sizes:
        raise ValueError(f"{initial_path}: layer sizes {list(start.layer_sizes)} differ from "
                         f"{weights_path}'s {list(net.layer_sizes)}")
    start = net.with_flat(start.flat)  # scored as the trained network is
    result = interpolation_result(start, net, X, y, spec, name, **split, n_jobs=n_jobs,
                                  weights_file=weights_path, config_hash=config_hash,
                                  initial_weights_file=initial_path)
    result.to_parquet(table)
    result.save_figure(figure)
    return result.metrics


def trajectory_pca_landscape(trajectory_path, weights_path, data_path, spec: dict,
                             config_hash: str, name: str, *, table, path, topology,
                             figure, n_jobs=None) -> dict:
    """Loss on the PCA plane of the training path, and the path seen from that plane."""
    net, X, y, split = _inputs(weights_path, data_path, spec)
    iterations, states, path_meta = io.read_trajectory(trajectory_path)
    if states.shape[1] != net.flat.size or not (states[-1] == net.flat).all():
        raise ValueError(f"{trajectory_path} does not end at the weights in {weights_path}: "
                         "the two files come from different trainings; retrain the network")
    result = add_topology(trajectory_pca_result(
        iterations, states, path_meta.get("solver"), net, X, y, spec, name, **split,
        n_jobs=n_jobs, weights_file=weights_path, config_hash=config_hash, trajectory_file=trajectory_path),
        threshold_of(spec))
    result.to_parquet(table)
    result.to_parquet(topology, "topology")
    result.to_parquet(path, "path")
    result.save_figure(figure)
    return result.metrics
