"""Structured evaluation of a weights slice: recompute only what the two moving weights change.

With the output linear in the last hidden layer (MLPRegressor's identity output), each
pair of weights falls in one class, and each class has its exact path (A is the
residual along the lower weight's axis: G forward passes, not G^2):

- output_quadratic (sklandscape.engine.expanded.Quadratic): one weight in the output layer;
  e = A_p + s_q H_p, the loss is quadratic in s_q, from three sums over the samples per p.
- separable (expanded.Separable): the weights feed different units of the last hidden
  layer; e = A_p + B_q, the cross term a matrix product.
- one_unit (unitwise.OneUnit): both reach one unit of the last hidden layer; only that
  unit is recomputed per cell, through exp factors for logistic and tanh.
- rank_update (unitwise.RankUpdate): both below the last hidden layer; only the units they
  feed in their layer, then a rank-1/2 update into the next one, then full layers.
- output_update (sklandscape.engine.output_slices): a classifier or a multi-output
  regressor, whose loss has no such expansion: the moved units as a rank update into the
  layer above, full layers after, then the plain pass's own loss.
- plain: a single-output regressor without a hidden layer: the batched forward pass from
  the lowest moving layer, landscape.plain_rows, which is also every path's reference.

Layers below the lowest moving weight are never recomputed (moves.centre_state).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from sklandscape.engine.expanded import LinearUnit, Quadratic, Separable
from sklandscape.engine.landscape import ROW_BLOCK, Grid, Progress, plain_measure_rows
from sklandscape.engine.moves import coordinate
from sklandscape.engine.output_slices import OutputSlice
from sklandscape.engine.slicing import Plan
from sklandscape.engine.unitwise import OneUnit, RankUpdate
from sklandscape.model.network import Network

KINDS = ("output_quadratic", "separable", "one_unit", "rank_update", "output_update", "plain")


def plan_pair(net: Network, axes: tuple[str, str]) -> Plan:
    """Which structured path evaluates this pair of weights."""
    first, second = (coordinate(net, name) for name in axes)
    low_first = first.layer <= second.layer
    low, high = (first, second) if low_first else (second, first)
    linear_output = net.out_activation == "identity" and net.layer_sizes[-1] == 1
    if not linear_output:  # a classifier, a multi-output regressor
        return Plan("output_update", low, high, low_first)
    if net.n_layers < 2:
        return Plan("plain")
    L = net.n_layers
    if high.layer == L:
        kind = "output_quadratic"
    elif high.layer == L - 1 and low.layer == L - 1 and low.unit != high.unit:
        kind = "separable"
    elif high.layer == L - 1:
        kind = "one_unit"
    else:
        kind = "rank_update"
    return Plan(kind, low, high, low_first)


def weights_slice_rows(
    net: Network, X, y, grid: Grid, rows: range | None = None, progress: Progress | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first row, loss of those rows) over `rows` of the grid, by the fastest exact path."""
    for first, columns in weights_slice_measures(net, X, y, grid, rows, progress):
        yield first, columns["loss"]


def weights_slice_measures(
    net: Network, X, y, grid: Grid, rows: range | None = None, progress: Progress | None = None
) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """Yield (first row, the table's columns of those rows): {"loss"}, and for a classifier
    also {"accuracy"} (the share of samples classified right at each cell).

    BLAS runs on one thread here: the products are small (ROW_BLOCK rows), where
    threads cost more than they give, and a fixed thread count keeps a tile's bits
    equal to the whole grid's.
    """
    from threadpoolctl import threadpool_limits

    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    plan = plan_pair(net, grid.names)
    if plan.kind == "output_update":
        path = OutputSlice(net, X, y, grid, plan).rows(rows, progress)
    elif plan.kind == "plain":
        path = plain_measure_rows(net, X, y, grid, rows, progress)
    else:
        kind = {"output_quadratic": Quadratic, "separable": Separable, "one_unit": OneUnit,
                "rank_update": RankUpdate}[plan.kind]
        if plan.kind == "one_unit" and net.activation == "identity":
            kind = LinearUnit  # an identity unit is linear in its weights
        path = ((first, {"loss": loss}) for first, loss in
                kind(net, X, y, grid, plan).rows(rows, progress))
    if net.objective == "sklearn" and plan.kind != "plain":  # the plain pass knows it already
        path = _sklearn_objective(net, len(y), grid, path)
    with threadpool_limits(1, user_api="blas"):
        yield from path


def _sklearn_objective(net: Network, n_samples: int, grid: Grid, rows):
    """A structured path's data loss as sklearn's objective: half a regressor's MSE (a
    classifier's log-loss whole), plus the L2 penalty, of which only the moving weights' part
    changes from cell to cell."""
    from sklandscape.model.network import l2_penalty

    half = 1.0 if net.is_classifier else 0.5
    index = [net.index(name) for name in grid.names]
    others = net.flat.copy()
    others[index] = 0.0
    base = float(l2_penalty(net, others, n_samples))
    scale = [0.5 * net.alpha / n_samples if net.coef_mask[i] else 0.0 for i in index]
    for first, columns in rows:
        loss = columns["loss"]
        a = grid.first[first : first + loss.shape[0]][:, None]
        b = grid.second[None, :]
        yield first, columns | {"loss": half * loss + (base + scale[0] * a * a + scale[1] * b * b)}


def weights_slice_grid(net: Network, X, y, grid: Grid, progress: Progress | None = None,
                       n_jobs: int | None = None) -> dict[str, np.ndarray]:
    """Every measure of the whole grid (loss; a classifier's accuracy), each grid.shape;
    `n_jobs` splits its rows over worker processes (sklandscape.engine.workers)."""
    from sklandscape.engine.workers import banded

    def compute(band: range, report):
        return weights_slice_measures(net, X, y, grid, band, report)

    found: dict[str, np.ndarray] = {}
    for first, columns in banded(compute, range(grid.shape[0]), n_jobs, progress,
                                 unit=grid.shape[1], align=ROW_BLOCK):
        for key, values in columns.items():
            found.setdefault(key, np.empty(grid.shape))[first : first + len(values)] = values
    return found


def weights_slice_structured(net: Network, X, y, grid: Grid) -> np.ndarray:
    """The whole grid's loss, shape grid.shape."""
    loss = np.empty(grid.shape)
    for first, values in weights_slice_rows(net, X, y, grid):
        loss[first : first + len(values)] = values
    return loss
