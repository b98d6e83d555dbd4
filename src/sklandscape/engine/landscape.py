"""Loss landscapes on 2-D grids: grids, tiles, and the plain batched pass.

A weights slice moves two named parameters over [trained - span, trained + span]
and holds every other one at its trained value. The plain pass here runs one forward
pass per grid point, batched, from the lowest moving layer up (layers below it are
computed once); it is the reference for the structured paths (sklandscape.engine.structured),
which the pipeline uses. Grids are processed in blocks of ROW_BLOCK rows aligned to
row 0, and points in chunks, so memory stays bounded and a tile (a range of rows)
computes exactly what the whole grid computes for those rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sklandscape.engine.scoring import Scorer
from sklandscape.engine.summary import RunningSummary
from sklandscape.model.network import (
    PROBABILITY_EPS,
    Network,
    activate_in_place,
    forward,
    forward_from,
    hidden_before,
    objective_loss,
    parameter_layer,
    predicted_class,
    true_class_probability,
)
from sklandscape.model.network import accuracy as accuracy_of
from sklandscape.model.network import loss as loss_of

# Working-set budget for one chunk of grid points (activations of every layer).
CHUNK_BYTES = 32 * 1024 * 1024
# Rows of the grid computed together; tiles and the whole grid share these blocks.
ROW_BLOCK = 8

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Grid:
    """A regular grid: `first` is the slow (outer) axis of the flattened table."""

    names: tuple[str, str]
    first: np.ndarray
    second: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.first), len(self.second)

    @property
    def size(self) -> int:
        return len(self.first) * len(self.second)

    def points(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Coordinates of flat grid points [start, stop) as an (m, 2) array."""
        flat = np.arange(start, self.size if stop is None else stop)
        rows, cols = np.divmod(flat, len(self.second))
        return np.stack([self.first[rows], self.second[cols]], axis=1)


def axis_values(centre: float, span: float, resolution: int) -> np.ndarray:
    """`resolution` points over [centre - span, centre + span]; the middle one is the centre."""
    values = np.linspace(centre - span, centre + span, resolution)
    if resolution % 2:
        values[resolution // 2] = centre  # exact, not centre +- rounding
    return values


# A figure's map is ~500 pixels across: beyond this many points per axis a streamed landscape's
# map is drawn thinned (every k-th point, plus the centre and each map's minimum), so drawing a
# 5001^2 landscape needs the memory and time of a ~201^2 one (a 1001^2 map drawn from every
# 5th point is the same picture; contouring all 10^6 points was most of that job's time).
FIGURE_POINTS = 201


def figure_indices(size: int, limit: int, keep=()) -> np.ndarray:
    """Grid indices a figure draws from an axis of `size` points: all of them up to `limit`;
    beyond, every k-th (the least k that leaves about `limit`), plus the centre, the last and
    `keep` (e.g. the minimum's), so that a thinned map still marks them exactly."""
    if size <= limit:
        return np.arange(size)
    step = -(-size // limit)
    chosen = set(range(0, size, step)) | {size // 2, size - 1} | {int(k) for k in keep}
    return np.array(sorted(chosen), dtype=np.int64)


def weights_grid(net: Network, axes: tuple[str, str], span, resolution) -> Grid:
    spans = span if isinstance(span, (list, tuple)) else (span, span)
    resolutions = resolution if isinstance(resolution, (list, tuple)) else (resolution, resolution)
    if axes[0] == axes[1]:
        raise ValueError(f"a weights landscape needs two different weights, got {axes[0]!r} twice")
    values = [axis_values(net.value(a), s, r) for a, s, r in zip(axes, spans, resolutions)]
    return Grid(tuple(axes), values[0], values[1])


def select_samples(n_available: int, samples) -> np.ndarray:
    """'all', one index, or a list of indices -> sorted-as-given index array, range-checked."""
    if samples == "all" or samples is None:
        return np.arange(n_available)
    indices = np.atleast_1d(np.asarray(samples))
    if indices.size == 0 or not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(f"samples must be 'all', an index or a list of indices, got {samples!r}")
    bad = indices[(indices < 0) | (indices >= n_available)]
    if bad.size:
        raise IndexError(
            f"sample index {int(bad[0])} is out of range: the dataset has {n_available} rows "
            f"(valid indices 0..{n_available - 1})"
        )
    return indices


def chunk_size(n_samples: int, widest: int, budget: int = CHUNK_BYTES) -> int:
    # ~3 live arrays of (chunk, n_samples, widest) float64 during one layer.
    return max(1, budget // (3 * 8 * max(1, n_samples) * max(1, widest)))


def tile_rows(n_rows: int, tile: int, tiles: int) -> range:
    """Rows of the grid's first axis that tile `tile` of `tiles` covers (balanced, in order)."""
    if not 0 <= tile < tiles:
        raise ValueError(f"tile {tile} is not one of 0..{tiles - 1}")
    if tiles > n_rows:
        raise ValueError(f"{tiles} tiles for a grid of {n_rows} rows: at most one tile per row")
    return range(tile * n_rows // tiles, (tile + 1) * n_rows // tiles)


def aligned_blocks(rows: range, n_rows: int) -> Iterator[range]:
    """The blocks of ROW_BLOCK rows, aligned to row 0, that cover `rows`.

    Every cell is computed inside its own block, never in a batch shaped by the
    caller's range, so a tile gives the same bits as the whole grid.
    """
    start = rows.start - rows.start % ROW_BLOCK
    for first in range(start, rows.stop, ROW_BLOCK):
        yield range(first, min(first + ROW_BLOCK, n_rows))


def trimmed(block: range, values: np.ndarray, rows: range) -> tuple[int, np.ndarray]:
    """The part of a block's rows that lies in `rows`: (first row, values)."""
    first, last = max(block.start, rows.start), min(block.stop, rows.stop)
    return first, values[first - block.start : last - block.start]


def plain_rows(
    net: Network, X: np.ndarray, y: np.ndarray, grid: Grid, rows: range | None = None,
    progress: Progress | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """The plain batched pass, the reference: yield (first row, loss of those rows).

    One forward pass per grid point, batched; layers below the lowest moving weight
    are computed once.
    """
    for first, columns in plain_measure_rows(net, X, y, grid, rows, progress, accuracy=False):
        yield first, columns["loss"]


def plain_measure_rows(
    net: Network, X: np.ndarray, y: np.ndarray, grid: Grid, rows: range | None = None,
    progress: Progress | None = None, accuracy: bool = True,
) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """As plain_rows, yielding {"loss", and for a classifier "accuracy"} of those rows."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n_rows, n_cols = grid.shape
    rows = range(n_rows) if rows is None else rows
    columns = [net.index(name) for name in grid.names]
    first_layer = min(parameter_layer(name) for name in grid.names)
    hidden = hidden_before(net, X, first_layer)
    step = chunk_size(len(y), max(net.layer_sizes[first_layer - 1 :]))
    measures = ["loss"] + (["accuracy"] if accuracy and net.is_classifier else [])
    done = 0
    for block in aligned_blocks(rows, n_rows):
        start, stop = block.start * n_cols, block.stop * n_cols
        values = {m: np.empty(stop - start) for m in measures}
        for at in range(start, stop, step):
            end = min(stop, at + step)
            flat = np.repeat(net.flat[None, :], end - at, axis=0)
            flat[:, columns] = grid.points(at, end)
            with np.errstate(over="ignore", invalid="ignore"):
                output = forward_from(net, flat, hidden, first_layer)
                values["loss"][at - start : end - start] = loss_of(net, output, y, flat)
                if "accuracy" in values:
                    values["accuracy"][at - start : end - start] = accuracy_of(net, output, y)
        parts = {m: trimmed(block, v.reshape(len(block), n_cols), rows) for m, v in values.items()}
        first = parts["loss"][0]
        done += parts["loss"][1].size
        if progress:
            progress(done, len(rows) * n_cols)
        yield first, {m: part[1] for m, part in parts.items()}


def weights_slice(
    net: Network, X: np.ndarray, y: np.ndarray, grid: Grid, progress: Progress | None = None
) -> np.ndarray:
    """MSE at every grid point by the plain pass, shape grid.shape."""
    loss = np.empty(grid.shape)
    for first, values in plain_rows(net, X, y, grid, progress=progress):
        loss[first : first + len(values)] = values
    return loss


def plane_grid(first: np.ndarray, second: np.ndarray, names=("a", "b")) -> Grid:
    """A grid of coefficients (a, b) along two directions in weight space."""
    return Grid(tuple(names), np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64))


def plane_slice_chunks(
    net: Network, X: np.ndarray, y: np.ndarray, grid: Grid, origin: np.ndarray,
    directions: tuple[np.ndarray, np.ndarray], progress: Progress | None = None,
    points: range | None = None,
) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """Yield (start, {"loss", and a classifier's "accuracy"}) of `origin + a * d1 + b * d2`
    for grid points (a, b) start… of `points` (default all; each point's numbers do not
    depend on which others share its chunk).

    The sibling of plain_rows for any two directions (random, PCA, …): every weight may
    move, so each chunk runs the batched forward pass, all but its first layer (below).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    origin = np.asarray(origin, dtype=np.float64)
    d1, d2 = (np.asarray(d, dtype=np.float64) for d in directions)
    for name, vector in (("origin", origin), ("first direction", d1), ("second direction", d2)):
        if vector.shape != net.flat.shape:
            raise ValueError(f"{name} has shape {vector.shape}; the network has "
                             f"{net.flat.size} parameters")
    step = chunk_size(len(y), max(net.layer_sizes))
    if net.n_layers == 1:  # no hidden layer: the first layer is the output
        first = None
    else:
        # The first layer's pre-activations are linear in (a, b):
        #   Xs (W1 + a D1 + b D2) + (b1 + a e1 + b e2) = Z0 + a Z1 + b Z2,
        # so its three products are computed once, not once per grid point (on diabetes [64]
        # that layer is 83% of a plane's multiply-adds). At (0, 0), 0 Z1 + 0 Z2 + Z0 is Z0
        # bit for bit. Its buffers are allocated once for all chunks: glibc maps arrays of a
        # few MB fresh and unmaps them on free, so per-chunk temporaries page-fault anew.
        Xs = net.scale_inputs(X)
        first = [Xs @ coef + intercept for coef, intercept in
                 (net.layers(vector)[0] for vector in (origin, d1, d2))]
        cells = min(step, grid.size)
        buffer = np.empty((cells, *first[0].shape))
        scratch = np.empty_like(buffer)
        # The layers above: each product written into its own buffer, the bias added there.
        above = [np.empty((cells, len(y), width)) for width in net.layer_sizes[2:]]
        score = Scorer(net, y, cells)
    points = range(grid.size) if points is None else points
    for start in range(points.start, points.stop, step):
        stop = min(points.stop, start + step)
        ab = grid.points(start, stop)
        # (a, b) = (0, 0) gives `origin` exactly: 0 * d is 0 and origin + 0 is origin.
        flat = origin + ab[:, :1] * d1 + ab[:, 1:] * d2
        if progress:
            progress(stop, grid.size)
        if first is None:
            yield start, measures(net, forward(net, flat, X), y, flat)
            continue
        pre, other = buffer[: stop - start], scratch[: stop - start]
        np.multiply(ab[:, 0, None, None], first[1], out=pre)
        np.multiply(ab[:, 1, None, None], first[2], out=other)
        pre += other
        pre += first[0]
        hidden = activate_in_place(net.activation, pre)
        layers = net.layers(flat)  # (…, in, out) coefs and (…, out) intercepts per point
        for k, (coef, intercept) in enumerate(layers[1:]):
            out = above[k][: stop - start]
            np.matmul(hidden, coef, out=out)
            out += intercept[:, None, :]
            hidden = out if k == len(layers) - 2 else activate_in_place(net.activation, out)
        found = score(hidden)
        found["loss"] = objective_loss(net, found["loss"], flat, len(y))
        yield start, found


def measures(net: Network, output: np.ndarray, y: np.ndarray, flat: np.ndarray
             ) -> dict[str, np.ndarray]:
    """What a table records per parameter vector: the loss, and a classifier's accuracy."""
    with np.errstate(over="ignore", invalid="ignore"):
        found = {"loss": loss_of(net, output, y, flat)}
        if net.is_classifier:
            found["accuracy"] = accuracy_of(net, output, y)
    return found


def plane_slice(
    net: Network, X: np.ndarray, y: np.ndarray, grid: Grid, origin: np.ndarray,
    directions: tuple[np.ndarray, np.ndarray], progress: Progress | None = None,
) -> np.ndarray:
    """The loss of `origin + a * d1 + b * d2` at every grid point (a, b), shape grid.shape."""
    return plane_measures(net, X, y, grid, origin, directions, progress)["loss"]


def plane_measures(
    net: Network, X: np.ndarray, y: np.ndarray, grid: Grid, origin: np.ndarray,
    directions: tuple[np.ndarray, np.ndarray], progress: Progress | None = None,
    n_jobs: int | None = None,
) -> dict[str, np.ndarray]:
    """As plane_slice, every measure (loss; a classifier's accuracy), each grid.shape.

    `n_jobs` (joblib's: None = 1, -1 = every core) splits the grid's points into bands over
    worker processes, each with one BLAS thread; every point is computed as the serial pass
    computes it, so the tables are the same bits for every n_jobs.
    """
    found: dict[str, np.ndarray] = {}
    for start, values in _plane_parts(net, X, y, grid, origin, directions, progress, n_jobs):
        for key, value in values.items():
            found.setdefault(key, np.empty(grid.size))[start : start + len(value)] = value
    return {key: value.reshape(grid.shape) for key, value in found.items()}


def _plane_parts(net, X, y, grid, origin, directions, progress, n_jobs):
    from sklandscape.engine.workers import banded

    def compute(points: range, report):
        return plane_slice_chunks(net, X, y, grid, origin, directions, report, points=points)

    return banded(compute, range(grid.size), n_jobs, progress)


def parameter_losses(net: Network, X: np.ndarray, y: np.ndarray, flats: np.ndarray) -> np.ndarray:
    """The loss of each parameter vector (row of `flats`, shape (m, P)), in bounded chunks."""
    return parameter_measures(net, X, y, flats)["loss"]


def parameter_measures(net: Network, X: np.ndarray, y: np.ndarray, flats: np.ndarray,
                       progress: Progress | None = None, n_jobs: int | None = None
                       ) -> dict[str, np.ndarray]:
    """Every measure (loss; a classifier's accuracy) of each parameter vector; progress(done,
    total) after every chunk, if given. `n_jobs` splits the vectors over worker processes
    (a vector's numbers do not depend on which others share its chunk: the same bits)."""
    from sklandscape.engine.workers import banded

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    flats = np.atleast_2d(np.asarray(flats, dtype=np.float64))
    step = chunk_size(len(y), max(net.layer_sizes))

    def compute(band: range, report):
        for start in range(band.start, band.stop, step):
            stop = min(band.stop, start + step)
            chunk = flats[start:stop]
            yield start, measures(net, forward(net, chunk, X), y, chunk)
            if report is not None:
                report(stop, len(flats))

    found: dict[str, np.ndarray] = {}
    for start, values in banded(compute, range(len(flats)), n_jobs, progress):
        for key, value in values.items():
            found.setdefault(key, np.empty(len(flats)))[start : start + len(value)] = value
    return found


@dataclass(frozen=True)
class InputPlane:
    """Two input features that vary over a grid, every other one held at `reference`."""

    features: tuple[int, int]
    reference: np.ndarray  # (n_inputs,): the values of the features that do not vary

    @property
    def names(self) -> tuple[str, str]:
        """The grid's columns: the two features' data columns, x{i} and x{j}."""
        return f"x{self.features[0]}", f"x{self.features[1]}"

    def embed(self, points: np.ndarray) -> np.ndarray:
        """Whole inputs (m, n_inputs) for points (m, 2) of the plane."""
        full = np.repeat(np.asarray(self.reference, dtype=np.float64)[None, :], len(points), 0)
        full[:, list(self.features)] = points
        return full

    @classmethod
    def first_two(cls, n_inputs: int) -> InputPlane:
        return cls((0, 1), np.zeros(n_inputs))


def input_bounds(X: np.ndarray, margin: float, domain=None,
                 features: tuple[int, int] = (0, 1)) -> list[tuple[float, float]]:
    """The two features' `domain` (else the data's range), widened by `margin` on each side."""
    if domain is None:
        domain = [(X[:, k].min(), X[:, k].max()) for k in features]
    else:
        domain = [domain[k] for k in features]
    return [(float(lo) - margin, float(hi) + margin) for lo, hi in domain]


def input_grid(bounds, resolution: int, names=("x0", "x1")) -> Grid:
    (lo0, hi0), (lo1, hi1) = bounds
    return Grid(tuple(names), np.linspace(lo0, hi0, resolution),
                np.linspace(lo1, hi1, resolution))


def input_columns(net: Network) -> list[str]:
    """An input landscape's value columns: a regressor's squared error against the target, a
    classifier's class predicted, probability of the target class, and its log-loss."""
    if net.is_classifier:
        return ["target", "prediction", "probability", "loss"]
    outputs = net.layer_sizes[-1]
    if outputs > 1:  # a multi-output regressor: one target and prediction per output
        return [f"{what}_{j}" for what in ("target", "prediction") for j in range(outputs)] \
            + ["loss"]
    return ["target", "prediction", "loss"]


def input_values(net: Network, points: np.ndarray, target_fn) -> dict[str, np.ndarray]:
    """input_columns at whole inputs (m, n_inputs); `target_fn` gives the target (a value, or
    a classifier's class index) at each."""
    with np.errstate(over="ignore", invalid="ignore"):
        output = net.predict(points)
        target = target_fn(points) if target_fn is not None else np.full(output.shape, np.nan)
        if not net.is_classifier and output.ndim == 2:  # several outputs: their mean error
            if np.shape(target) != output.shape:
                raise ValueError(
                    f"the target gives shape {np.shape(target)} for {len(points)} inputs; this "
                    f"network has {output.shape[1]} outputs, so it needs one target per output, "
                    f"shape ({len(points)}, {output.shape[1]}) (a generating function gives one)")
            return {**{f"target_{j}": target[:, j] for j in range(output.shape[1])},
                    **{f"prediction_{j}": output[:, j] for j in range(output.shape[1])},
                    "loss": np.mean((output - target) ** 2, axis=1)}
        if not net.is_classifier:
            return {"target": target, "prediction": output, "loss": (output - target) ** 2}
        binary = net.out_activation == "logistic"
        probability = true_class_probability(output, target, binary)
        clipped = np.clip(probability, PROBABILITY_EPS, 1.0 - PROBABILITY_EPS)
        return {"target": np.asarray(target, dtype=np.float64),
                "prediction": predicted_class(output, binary).astype(np.float64),
                "probability": probability, "loss": -np.log(clipped)}


def input_rows(
    net: Network, grid: Grid, target_fn, rows: range | None = None,
    progress: Progress | None = None, plane: InputPlane | None = None,
) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """The loss over a grid of two inputs: yield (first row, input_columns of those rows)."""
    if plane is None:
        if net.layer_sizes[0] != 2:
            raise ValueError(f"an input landscape of a network with {net.layer_sizes[0]} inputs "
                             "needs the two features that vary (and a reference for the rest)")
        plane = InputPlane.first_two(2)
    n_rows, n_cols = grid.shape
    rows = range(n_rows) if rows is None else rows
    done = 0
    for block in aligned_blocks(rows, n_rows):
        points = plane.embed(grid.points(block.start * n_cols, block.stop * n_cols))
        # Far from the data (a huge margin) targets and errors may overflow: inf, not a warning.
        columns = input_values(net, points, target_fn)
        parts = {k: trimmed(block, v.reshape(len(block), n_cols), rows)[1] for k, v in columns.items()}
        done += parts["loss"].size
        if progress:
            progress(done, len(rows) * n_cols)
        yield max(block.start, rows.start), parts


def input_landscape(net: Network, grid: Grid, target_fn, progress: Progress | None = None,
                    plane: InputPlane | None = None) -> pd.DataFrame:
    """The loss of the network over a grid of inputs, against the target function."""
    parts = [columns for _, columns in input_rows(net, grid, target_fn, progress=progress,
                                                  plane=plane)]
    points = grid.points()
    frame = {grid.names[0]: points[:, 0], grid.names[1]: points[:, 1]}
    for key in input_columns(net):
        frame[key] = np.concatenate([p[key].ravel() for p in parts])
    return pd.DataFrame(frame)


def row_columns(grid: Grid, first: int, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Table columns for whole grid rows from `first`: the two coordinates, then the values."""
    n = len(next(iter(values.values())))
    out = {grid.names[0]: np.repeat(grid.first[first : first + n], len(grid.second)),
           grid.names[1]: np.tile(grid.second, n)}
    out.update({k: np.ravel(v) for k, v in values.items()})
    return out


def grid_frame(grid: Grid, loss: np.ndarray, start: int = 0) -> pd.DataFrame:
    """Rows for flat grid points [start, start + len(loss)): the two coordinates, then loss."""
    loss = np.ravel(loss)
    points = grid.points(start, start + len(loss))
    return pd.DataFrame({grid.names[0]: points[:, 0], grid.names[1]: points[:, 1], "loss": loss})


def summarize(frame: pd.DataFrame, axes: tuple[str, str]) -> dict[str, float]:
    """Min, max, where they are, and how many cells are not finite, of a whole table."""
    summary = RunningSummary(axes)
    summary.update({axis: frame[axis].to_numpy() for axis in axes} | {"loss": frame["loss"].to_numpy()})
    return summary.result()
