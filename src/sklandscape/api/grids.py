"""The two grid kinds, weights and input, as streams of table rows: the pipeline writes a
stream to Parquet as it comes (bounded memory, tiles); the public API collects it into a
DataFrame. Both take the same stream, so their tables are the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sklandscape.engine.landscape import (
    ROW_BLOCK,
    InputPlane,
    input_bounds,
    input_columns,
    input_grid,
    input_rows,
    row_columns,
    select_samples,
    tile_rows,
    weights_grid,
)
from sklandscape.engine.structured import plan_pair, weights_slice_measures
from sklandscape.engine.summary import RunningSummary
from sklandscape.engine.workers import banded
from sklandscape.model.network import Network
from sklandscape.progress import ProgressLog

log = logging.getLogger("sklandscape")

# What an input landscape's `target` column is, by where the data came from.
TARGET_GENERATING = "generating function {}"
TARGET_NEAREST = "y of the nearest data point"
TARGET_NEAREST_CLASS = "the class of the nearest data point"


@dataclass
class GridStream:
    """A landscape's columns, its rows in chunks (dicts of arrays), and its metadata.

    The metadata is completed while the rows stream (`n_nonfinite` after the last one).
    """

    columns: list[str]
    chunks: Iterator[dict[str, np.ndarray]]
    metadata: dict
    axes: tuple[str, str]


def landscape_metadata(spec: dict, net: Network, samples, weights_file=None,
                       config_hash=None) -> dict:
    """What every landscape table carries in its metadata (all kinds: grid and direction).

    `weights_file` and `config_hash` are the pipeline's provenance (None from the API).
    """
    return {
        "landscape": spec,
        "network": {
            "name": spec["network"],
            "layer_sizes": list(net.layer_sizes),
            "activation": net.activation,
            "out_activation": net.out_activation,
            "loss": net.loss_name,
            **({"classes": list(net.classes)} if net.classes is not None else {}),
            **({"scaler": net.scaler.kind} if net.scaler is not None else {}),
            **({"objective": net.objective, "alpha": net.alpha}
               if net.objective != "default" else {}),
            "weights_file": None if weights_file is None else str(weights_file),
        },
        "samples": np.asarray(samples).tolist(),
        "n_samples": int(len(samples)),
        "config_hash": config_hash,
    }


def weights_stream(net: Network, X, y, spec: dict, tile: tuple[int, int] | None = None,
                   heldout: tuple[np.ndarray, np.ndarray] | None = None, samples=None,
                   n_jobs: int | None = None, **provenance) -> GridStream:
    """The loss over two named weights, every other weight at its trained value.

    `tile` = (index, count) streams only that tile's rows of the grid. With `heldout`
    (X, y of rows the network did not train on) every cell also gets the loss (and a
    classifier's accuracy) on those: columns `loss_heldout` (and `accuracy_heldout`).
    `samples` (row indices) overrides the spec's.
    """
    if samples is None:
        samples = select_samples(len(y), spec.get("samples", "all"))
    X, y = X[samples], y[samples]
    axes = tuple(spec["axes"])
    grid = weights_grid(net, axes, spec["span"], spec["resolution"])
    centre_loss = net.loss(X, y)
    rows = _tile_rows(grid, tile)
    plan = plan_pair(net, axes)
    log.info("landscape %s x %s: %s path, rows %d..%d of %d, %d samples",
             axes[0], axes[1], plan.kind, rows.start, rows.stop - 1, grid.shape[0], len(y))
    progress = ProgressLog(f"landscape {axes[0]} x {axes[1]}")

    def compute(band: range, report):
        measured = weights_slice_measures(net, X, y, grid, band, report)
        if heldout is None:
            return measured
        return _with_heldout(measured, weights_slice_measures(net, *heldout, grid, band))

    measured = banded(compute, rows, n_jobs, progress, unit=grid.shape[1], align=ROW_BLOCK)
    chunks = (row_columns(grid, first, columns) for first, columns in measured)
    metadata = landscape_metadata(spec, net, samples, **provenance)
    metadata["centre"] = {axes[0]: net.value(axes[0]), axes[1]: net.value(axes[1]),
                          "loss": centre_loss}
    measures = ["loss", "accuracy"] if net.is_classifier else ["loss"]
    if heldout is not None:
        metadata["heldout"] = heldout_metadata(net, *heldout)
        metadata["centre"]["loss_heldout"] = metadata["heldout"]["loss"]
        measures += [f"{m}_heldout" for m in measures]
    _record_tile(metadata, grid, tile, rows)
    return GridStream([*axes, *measures], chunks, metadata, axes)


def heldout_metadata(net: Network, X, y) -> dict:
    """What a landscape says of the held-out rows: how many, and the loss there."""
    return {"n_samples": int(len(y)), "loss": net.loss(X, y)}


def _with_heldout(training, heldout):
    """Zip two streams of (first row, columns) over the same rows: held-out columns suffixed."""
    for (first, columns), (_, other) in zip(training, heldout, strict=True):
        yield first, columns | {f"{k}_heldout": v for k, v in other.items()}


def input_plane(net: Network, X, spec: dict, feature_names=None) -> InputPlane:
    """The spec's two `features` (indices or names, default the first two) and where the
    others are held: `reference` "median" (of the data, the default) or a data row's index."""
    n_inputs = net.layer_sizes[0]
    names = list(feature_names) if feature_names is not None else []
    features = []
    for feature in spec.get("features", (0, 1)):
        if isinstance(feature, str):
            if feature not in names:
                raise ValueError(f"features: no feature {feature!r}; the data's features are "
                                 f"{names or [f'x{k}' for k in range(n_inputs)]}")
            feature = names.index(feature)
        features.append(int(feature))
    features = tuple(features)
    if len(features) != 2 or len(set(features)) != 2 or not all(0 <= f < n_inputs for f in features):
        raise ValueError(f"features {list(features)}: an input landscape needs two different "
                         f"features of the network's {n_inputs} (0..{n_inputs - 1})")
    reference = spec.get("reference", "median")
    if reference == "median":
        values = np.median(X, axis=0)
    elif isinstance(reference, int) and 0 <= reference < len(X):
        values = X[reference]
    else:
        raise ValueError(f"reference {reference!r}: 'median' or a data row (0..{len(X) - 1})")
    return InputPlane(features, np.asarray(values, dtype=np.float64))


def input_stream(net: Network, X, y, spec: dict, target: Callable | None, described: str,
                 domain=None, tile: tuple[int, int] | None = None, feature_names=None,
                 n_jobs: int | None = None, **provenance) -> GridStream:
    """The loss over two input features, weights fixed, the other features at a reference.

    A regressor's squared error against `target` (a function of the whole input); without
    one, and for a classifier always, the target at a grid point is the nearest data point's
    y or class (exact at the data, piecewise constant between); `described` says which.
    """
    from sklandscape.data.datasets import nearest_neighbour_target

    plane = input_plane(net, X, spec, feature_names)
    # The domain (a generated dataset's), else the data's range, widened by the margin.
    bounds = input_bounds(X, spec.get("margin", 0.5), domain, plane.features)
    grid = input_grid(bounds, spec["resolution"], plane.names)
    if target is None or net.is_classifier:
        # The nearest data point on the map (the two features), not in the whole input space
        # where the held features would decide it.
        nearest = nearest_neighbour_target(X[:, list(plane.features)], y)
        target = lambda points: nearest(points[:, list(plane.features)])  # noqa: E731
    if net.is_classifier:
        described = TARGET_NEAREST_CLASS
    rows = _tile_rows(grid, tile)
    def compute(band: range, report):
        return input_rows(net, grid, target, band, report, plane)

    chunks = (row_columns(grid, first, columns) for first, columns in banded(
        compute, rows, n_jobs, ProgressLog("input landscape"), unit=grid.shape[1],
        align=ROW_BLOCK))
    metadata = landscape_metadata(spec, net, np.arange(len(X)), **provenance)
    metadata["bounds"] = bounds
    metadata["target"] = described
    metadata["plane"] = {"features": list(plane.features), "columns": list(plane.names),
                         "names": [names_of(feature_names, k) for k in plane.features],
                         "reference": plane.reference.tolist()}
    # The centre's loss is the table's own cell nearest the middle, computed the same way.
    centre = [(lo + hi) / 2 for lo, hi in bounds]
    i = int(np.argmin(np.abs(grid.first - centre[0])))
    j = int(np.argmin(np.abs(grid.second - centre[1])))
    _, at_centre = next(input_rows(net, grid, target, range(i, i + 1), plane=plane))
    metadata["centre"] = {plane.names[0]: centre[0], plane.names[1]: centre[1],
                          "loss": float(at_centre["loss"][0, j])}
    _record_tile(metadata, grid, tile, rows)
    return GridStream([*plane.names, *input_columns(net)], chunks, metadata, plane.names)


def names_of(feature_names, k: int) -> str:
    """A feature's own name where known, else its data column x{k}."""
    return str(feature_names[k]) if feature_names is not None else f"x{k}"


def drain(stream: GridStream, write: Callable) -> dict:
    """Hand the rows to `write(chunks, columns, metadata)` while keeping their summary.

    The count of NaN or infinite losses goes into the metadata (`n_nonfinite`) after the
    last row, so a footer written after the rows carries it. Returns the summary.
    """
    summary = RunningSummary(stream.axes)
    heldout = (RunningSummary(stream.axes, column="loss_heldout")
               if "loss_heldout" in stream.columns else None)

    def summarized():
        for chunk in stream.chunks:
            summary.update(chunk)
            if heldout is not None:
                heldout.update(chunk)
            yield chunk
        stream.metadata["n_nonfinite"] = summary.n_nonfinite

    write(summarized(), stream.columns, stream.metadata)
    stats = summary.result()
    stats["loss_centre"] = stream.metadata["centre"]["loss"]
    if heldout is not None:
        stats |= {f"heldout_{k}": v for k, v in heldout.result().items() if k != "n_points"}
        stats["heldout_loss_centre"] = stream.metadata["centre"]["loss_heldout"]
    return stats


def collect(stream: GridStream) -> tuple[pd.DataFrame, dict]:
    """The whole stream as one DataFrame, and its summary."""
    parts: list[dict] = []
    stats = drain(stream, lambda chunks, columns, metadata: parts.extend(chunks))
    frame = pd.DataFrame({c: np.concatenate([p[c] for p in parts]) if parts else np.empty(0)
                          for c in stream.columns})
    return frame, stats


def _tile_rows(grid, tile) -> range:
    if tile is None:
        return range(grid.shape[0])
    return tile_rows(grid.shape[0], *tile)


def _record_tile(metadata, grid, tile, rows) -> None:
    """A tile's table says which rows of which grid it holds; the gathered table does not."""
    if tile is not None:
        metadata["tile"] = {"index": tile[0], "count": tile[1], "rows": [rows.start, rows.stop],
                            "grid_rows": grid.shape[0]}
