"""Figure stages: read the pipeline's tables, prepare what a plot needs, save the PNG.

The drawing itself is in sklandscape.figures.landscapes; the network evaluations a figure needs
(a fitted curve, a target surface) are made here with the same forward pass the
landscapes use.
"""

from __future__ import annotations

import copy
import logging
from functools import lru_cache
from pathlib import Path

import numpy as np

from sklandscape import io
from sklandscape.api.inputs import class_indices
from sklandscape.api.plotting import grid_landscape_figure
from sklandscape.api.result import figure_provenance
from sklandscape.data.datasets import generating_function, split_xy, target_names
from sklandscape.engine.landscape import FIGURE_POINTS, figure_indices
from sklandscape.figures import landscapes as landscapes_plots
from sklandscape.figures.drawing import save_figure
from sklandscape.figures.network import network_diagram
from sklandscape.figures.parity import confusion_figure, parity_figure
from sklandscape.figures.topology import overlay_topology
from sklandscape.model.network import predicted_class
from sklandscape.pipeline.stages.landscapes import feature_names, network_data
from sklandscape.provenance import file_key

log = logging.getLogger("sklandscape")

DENSE = 400  # points of a fitted curve
SURFACE = 121  # points per axis of a target or prediction surface


def _surface_grid(X: np.ndarray, n: int = SURFACE):
    x0 = np.linspace(X[:, 0].min(), X[:, 0].max(), n)
    x1 = np.linspace(X[:, 1].min(), X[:, 1].max(), n)
    mesh = np.meshgrid(x0, x1, indexing="ij")
    return x0, x1, np.stack([m.ravel() for m in mesh], axis=1)


def dataset_figure(data_path, function: str | None, out_path) -> None:
    frame, metadata = io.read_table(data_path)
    X, _ = split_xy(frame)
    name = _stem(data_path)
    grid = None
    if X.shape[1] == 2 and function:
        x0, x1, points = _surface_grid(X)
        grid = (x0, x1, generating_function(function)(points).reshape(len(x0), len(x1)))
    title = f"Dataset {name}: {_origin(metadata, function)}, {len(frame)} samples"
    names = feature_names(metadata, X.shape[1])
    if X.shape[1] > 2:
        title += f"; showing {names[0]} and {names[1]} of its {X.shape[1]} features"
    axis_names = tuple(names[:2]) if X.shape[1] >= 2 and "source" in metadata else None
    columns = metadata.get("source", {}).get("columns", {})
    named = [columns.get(c, c) for c in target_names(frame.columns)]
    save_figure(landscapes_plots.dataset_figure(frame, title=title, grid=grid,
                                                axis_names=axis_names, target_names=named),
                out_path)


def _origin(metadata: dict, function: str | None) -> str:
    """'target sine', or for a user's file where it came from and what its columns were."""
    if function:
        return f"target {function}"
    source = metadata.get("source", {})
    if "sklearn" in source:
        targets = ", ".join(v for k, v in source["columns"].items() if k.startswith("y"))
        return f"scikit-learn's {source['sklearn']} data set (target: {targets})"
    columns = ", ".join(f"{new} = {old}" for new, old in source.get("columns", {}).items())
    return f"your data from {source.get('path', '?')} ({columns})"


def network_figure(weights_path, out_path) -> None:
    net = io.read_weights(weights_path)
    frame, _ = io.read_table(weights_path)
    sizes = "-".join(str(s) for s in net.layer_sizes)
    title = (
        f"Network {_network_name(weights_path)}: {sizes} MLP, {net.activation} hidden units, "
        f"{net.out_activation} output, {len(net.flat)} parameters"
    )
    save_figure(network_diagram(list(net.layer_sizes), frame, title=title), out_path)


def fit_figure(weights_path, data_path, function: str | None, out_path) -> None:
    """The fitted curve (1 input) or surface (2), against the generating function if any."""
    net, X, y, metadata = network_data(weights_path, data_path)[:4]
    frame, _ = io.read_table(data_path)
    if net.is_classifier:
        predicted = predicted_class(net.predict(X), net.out_activation == "logistic")
        accuracy = float(np.mean(predicted == y))
        title = (f"Network {_network_name(weights_path)} fitted to {_stem(data_path)}: training "
                 f"accuracy {accuracy:.1%}, log-loss {net.loss(X, y):.3g}")
        save_figure(confusion_figure(y, predicted, net.classes or range(net.n_classes),
                                     title=title), out_path)
        return
    # A user's data has no generating function: then only the data and the fit are drawn.
    target_fn = generating_function(function) if function else None
    with np.errstate(over="ignore", invalid="ignore"):
        mse = float(np.mean((net.predict(X) - y) ** 2))
    title = (f"Network {_network_name(weights_path)} fitted to {_stem(data_path)} "
             f"(training MSE {mse:.3g})")
    if X.shape[1] == 1 and y.ndim == 1:
        x_dense = np.linspace(X[:, 0].min(), X[:, 0].max(), DENSE)
        prediction = net.predict(x_dense[:, None])
        target = target_fn(x_dense[:, None]) if target_fn else None
        fig = landscapes_plots.fit_figure(frame, title=title, x_dense=x_dense, prediction=prediction,
                               target=target)
    elif X.shape[1] == 2 and y.ndim == 1:
        x0, x1, points = _surface_grid(X)
        shape = (len(x0), len(x1))
        fig = landscapes_plots.fit_figure(
            frame, title=title, x_dense=(x0, x1), prediction=net.predict(points).reshape(shape),
            target=target_fn(points).reshape(shape) if target_fn else None,
        )
    else:  # more inputs than a plot has axes (or several outputs): predicted against actual
        columns = metadata.get("source", {}).get("columns", {})
        named = [columns.get(c, c) for c in target_names(frame.columns)]
        fig = parity_figure(y, net.predict(X), title=f"{title}; {X.shape[1]} input features",
                            target_names=named)
    save_figure(fig, out_path)


def figure_table(landscape_path):
    """The landscape's table as its figure draws it (thinned beyond FIGURE_POINTS per axis).

    A job draws its PNG and its 3-D page from the same table: the file is streamed once (a
    copy is returned each time, so neither drawing sees what the other changed)."""
    table, metadata = _figure_table(*file_key(landscape_path))
    return table.copy(), copy.deepcopy(metadata)


@lru_cache(maxsize=2)
def _figure_table(landscape_path: str, size: int, mtime_ns: int):
    metadata = io.read_metadata(landscape_path)
    resolution = metadata["landscape"]["resolution"]
    shape = tuple(resolution) if isinstance(resolution, list) else (resolution, resolution)
    if max(shape) <= FIGURE_POINTS:
        return io.read_table(landscape_path)
    maps = [c for c in ("loss", "loss_heldout") if c in io.column_names(landscape_path)]
    minima = [divmod(row, shape[1]) for row in io.column_argmins(landscape_path, maps).values()
              if row >= 0]
    first = figure_indices(shape[0], FIGURE_POINTS, [i for i, _ in minima])
    second = figure_indices(shape[1], FIGURE_POINTS, [j for _, j in minima])
    log.info("figure drawn from %d x %d of the %d x %d grid points (every %d-th, the centre and "
             "the minima)", len(first), len(second), *shape, -(-shape[0] // FIGURE_POINTS))
    return io.read_grid_subset(landscape_path, shape, first, second), metadata


def landscape_figure(landscape_path, data_path, out_path, grids=None) -> None:
    """A grid kind's PNG, with `grids` (its topology, sklandscape.api.topology) drawn over."""
    table, metadata = figure_table(landscape_path)
    data = io.read_table(data_path)[0] if metadata["landscape"]["kind"] == "input_space" else None
    classes = metadata["network"].get("classes")
    if data is not None and classes is not None:  # a classifier's labels, as class indices
        data["y"] = class_indices(data["y"].to_numpy(), classes, len(classes))
    figure = grid_landscape_figure(table, metadata, data, _stem(landscape_path))
    if grids:
        overlay_topology(figure, grids)
    save_figure(figure, out_path, figure_provenance(metadata["landscape"]["kind"],
                                                    _stem(landscape_path), metadata))


def _stem(path) -> str:
    return Path(path).stem


def _network_name(weights_path) -> str:
    return Path(weights_path).parent.name
