"""The shape of a 2-D landscape from its grid alone: minima, saddles and maxima, each minimum's
persistence (how deep its basin is before it merges with an older one), and the basin every
cell drains to.

The rules, stated once (docs/topology.md says them in words):

- **Order.** Cells are compared by (loss, row-major index): of two equal losses the earlier
  cell counts as lower, and a non-finite loss counts as higher than every finite one. With
  this total order a flat plateau has one minimum, of zero persistence, and no tie is left
  to chance.
- **Neighbours and the border.** The grid is the cubical complex of its cells (GUDHI's
  top-dimensional cubical complex): a sublevel set is connected through the 8 neighbours of
  a cell, its complement through the 4 edge neighbours. Outside the grid counts as higher
  than everything, so no border cell is a maximum.
- **Critical points** are where the Euler characteristic of the sublevel set changes when a
  cell joins it: +1 at a minimum (no neighbour lower) and at a maximum (all four edge
  neighbours lower), -k at a saddle of multiplicity k. Summed over the grid this is the
  Euler characteristic of a disk, so minima - saddles + maxima = 1 on every grid (tested on
  every landscape the pipeline makes).
- **Persistence** is sublevel-set persistence, by GUDHI, on the cells' ranks in that order (so
  GUDHI breaks ties as we do). A minimum is born at its loss and dies at the saddle where its
  component meets an older one (the elder rule); the global minimum never dies. A maximum
  fills a loop that a saddle closed. Pairs no more persistent than `threshold` times the loss
  range are ripples; the significant counts leave them out (a ridge along a diagonal, cut
  into 4-connected pieces, makes such ripples) and still satisfy the Euler relation.
- **Basins.** Every cell drains by steepest descent (to its lowest neighbour of 8, if lower
  than itself) to one minimum. A minimum whose persistence is at most `threshold` times the
  loss range is a ripple: its basin is counted with the basin it merges into.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_THRESHOLD = 0.01  # of the loss range: a minimum shallower than this is a ripple

# neighbour offsets (row, column); the first four are the edge neighbours
_EDGES = ((-1, 0), (0, 1), (1, 0), (0, -1))
_CORNERS = ((-1, 1), (1, 1), (1, -1), (-1, -1))  # the corner between _EDGES[k] and _EDGES[k+1]


@dataclass
class Topology:
    """The critical points of one grid, its basins and its counts.

    Attributes
    ----------
    points : pandas.DataFrame
        One row per critical point, minima first (lowest loss first), then saddles, then
        maxima: ``type``, ``row``, ``col`` (grid indices), ``loss``, ``multiplicity`` (a
        saddle's), and for minima ``persistence`` (loss units; inf for the global minimum),
        ``death_row``/``death_col`` (the saddle where it merges; -1 for the global),
        ``merges_into`` (the index, among the minima, of the older minimum it merges into),
        ``significant`` and ``basin_cells`` (cells draining to it, ripples' included).
    basins : numpy.ndarray of int, shape of the grid
        Each cell's basin: the index (among the minima) of the significant minimum it drains
        to.
    metrics : dict of str to float
        minima, saddles (with multiplicity), maxima; the same counting only pairs above the
        threshold (significant_minima, significant_saddles, significant_maxima);
        largest_persistence (below the global minimum; 0 with one minimum) and
        euler_characteristic (minima - saddles + maxima, always 1, as is the same sum of
        the significant counts).
    """

    points: pd.DataFrame
    basins: np.ndarray
    metrics: dict


def ranks(values: np.ndarray) -> np.ndarray:
    """Each cell's position in the order (loss, row-major index), non-finite last."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    keyed = np.where(np.isfinite(flat), flat, np.inf)
    order = np.argsort(keyed, kind="stable")  # stable: equal losses keep row-major order
    rank = np.empty(flat.size, dtype=np.int64)
    rank[order] = np.arange(flat.size)
    return rank.reshape(np.shape(values))


def _shifted(padded: np.ndarray, dr: int, dc: int) -> np.ndarray:
    """The neighbour at (dr, dc) of every cell of the unpadded grid."""
    n, m = padded.shape[0] - 2, padded.shape[1] - 2
    return padded[1 + dr:1 + dr + n, 1 + dc:1 + dc + m]


def euler_changes(rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How much each cell changes the Euler characteristic of the sublevel set it joins
    (+1 minimum or maximum, 0 regular, -k a saddle of multiplicity k), and how many of its
    4 edge neighbours are lower (0 at a minimum, 4 at a maximum)."""
    outside = np.iinfo(np.int64).max  # higher than every cell
    padded = np.pad(rank, 1, constant_values=outside)
    lower_edge = [_shifted(padded, *d) < rank for d in _EDGES]
    lower_corner = [_shifted(padded, *d) < rank for d in _CORNERS]
    new_edges = sum((~e).astype(np.int8) for e in lower_edge)
    # a vertex of the cell is new when none of the three other cells around it is there yet
    new_vertices = sum((~lower_edge[k] & ~lower_edge[(k + 1) % 4] & ~lower_corner[k]).astype(np.int8)
                       for k in range(4))
    return (new_vertices - new_edges + 1).astype(np.int64), 4 - new_edges


def _steepest_descent(rank: np.ndarray) -> np.ndarray:
    """Each cell's minimum (a flat index), following its lowest neighbour of 8 downhill."""
    n, m = rank.shape
    flat_index = np.arange(n * m).reshape(n, m)
    outside = np.iinfo(np.int64).max
    padded_rank = np.pad(rank, 1, constant_values=outside)
    padded_index = np.pad(flat_index, 1, constant_values=-1)
    best_rank, best = rank.copy(), flat_index.copy()
    for d in _EDGES + _CORNERS:
        neighbour_rank = _shifted(padded_rank, *d)
        lower = neighbour_rank < best_rank
        best_rank = np.where(lower, neighbour_rank, best_rank)
        best = np.where(lower, _shifted(padded_index, *d), best)
    target = best.ravel()
    while True:  # pointer jumping: log2(path length) passes
        jumped = target[target]
        if np.array_equal(jumped, target):
            return target.reshape(n, m)
        target = jumped


def _persistence_pairs(rank: np.ndarray):
    """GUDHI's pairs as flat (row-major) cell indices: the 0-dimensional (minimum, saddle
    where it dies), the 1-dimensional (saddle that closes a loop, maximum that fills it), and
    the minimum that never dies."""
    from gudhi.cubical_complex import CubicalComplex  # 0.1 s; only where topology is asked

    complex_ = CubicalComplex(top_dimensional_cells=rank.astype(np.float64))
    complex_.compute_persistence(homology_coeff_field=2, min_persistence=0.0)
    regular, essential = complex_.cofaces_of_persistence_pairs()
    shape = rank.shape

    def row_major(fortran):  # GUDHI indexes the cells in Fortran order
        rows, cols = np.unravel_index(np.asarray(fortran, dtype=np.int64), shape, order="F")
        return np.ravel_multi_index((rows, cols), shape)

    def pairs(dim):
        found = regular[dim] if len(regular) > dim else np.empty((0, 2))
        found = np.asarray(found, dtype=np.int64).reshape(-1, 2)
        return row_major(found[:, 0]), row_major(found[:, 1])

    return pairs(0), pairs(1), row_major(np.ravel(essential[0]))


def topology(values, *, threshold: float = DEFAULT_THRESHOLD) -> Topology:
    """Critical points, persistence and basins of a grid of losses (rows: first axis).

    Parameters
    ----------
    values : array-like of float, shape (n, m), n, m >= 2
        The loss at every grid cell.
    threshold : float, default 0.01
        A pair of critical points whose persistence is at most this fraction of the grid's
        loss range (max - min of the finite losses) is a ripple: the significant counts and
        the basins leave it out.

    Returns
    -------
    Topology
        ``.points`` (a DataFrame, one row per critical point: type, row, col, loss,
        persistence and its partner, the minimum it merges into, whether it is significant,
        its basin's cells), ``.basins`` (each cell's minimum, shaped as `values`) and
        ``.metrics`` (counts of minima, saddles and maxima, raw and significant; the largest
        persistence; ``euler_characteristic``, always 1).

    Raises
    ------
    ValueError
        `values` is not a 2-D grid of at least 2 x 2, or `threshold` is not in [0, 1).

    Examples
    --------
    >>> import numpy as np, sklandscape as sl
    >>> a, b = np.meshgrid(np.linspace(-2, 2, 41), np.linspace(-2, 2, 41), indexing="ij")
    >>> found = sl.topology((a**2 - 1) ** 2 + b**2)  # two wells, one saddle between them
    >>> found.metrics["minima"], found.metrics["saddles"], found.metrics["maxima"]
    (2, 1, 0)
    """
    z = np.asarray(values, dtype=np.float64)
    if z.ndim != 2 or min(z.shape) < 2:
        raise ValueError(f"topology needs a 2-D grid of at least 2x2 losses, got shape {z.shape}")
    if not (np.isfinite(threshold) and 0 <= threshold < 1):
        raise ValueError(f"threshold must be in [0, 1), got {threshold!r}")
    rank = ranks(z)
    change, edge_lower = (a.ravel() for a in euler_changes(rank))
    flat_z, flat_rank = z.ravel(), rank.ravel()
    minima = np.flatnonzero((change == 1) & (edge_lower == 0))
    maxima = np.flatnonzero((change == 1) & (edge_lower == 4))
    saddles = np.flatnonzero(change < 0)
    minima = minima[np.argsort(flat_rank[minima], kind="stable")]  # oldest first

    (births, deaths), (loops, fills), essential = _persistence_pairs(rank)
    if set(births.tolist()) | set(essential.tolist()) != set(minima.tolist()) \
            or set(fills.tolist()) != set(maxima.tolist()):
        raise AssertionError("GUDHI's pairs differ from the grid's critical points")  # a bug

    finite = flat_z[np.isfinite(flat_z)]
    loss_range = float(finite.max() - finite.min()) if finite.size else 0.0
    cut = threshold * loss_range

    def persistence_of(lower, upper):
        return np.array([_difference(flat_z[hi], flat_z[lo]) for lo, hi in zip(lower, upper)])

    # every critical cell's partner and persistence (a multiple saddle keeps its largest)
    partner: dict[int, int] = {}
    persistence: dict[int, float] = {}
    pair_persistence = []
    for lower, upper in ((births, deaths), (loops, fills)):
        spans = persistence_of(lower, upper)
        pair_persistence.append(spans)
        for a, b, span in zip(lower.tolist(), upper.tolist(), spans.tolist()):
            for cell, other in ((a, b), (b, a)):
                if span >= persistence.get(cell, -np.inf):
                    partner[cell], persistence[cell] = other, span
    for cell in essential.tolist():
        partner[cell], persistence[cell] = -1, np.inf
    significant_pairs = [int((spans > cut).sum()) for spans in pair_persistence]

    index_of = {int(cell): k for k, cell in enumerate(minima)}
    drains_to = _steepest_descent(rank).ravel()
    merges_into = _merge_tree(minima, births, deaths, drains_to, rank, index_of)
    min_persistence = np.array([persistence[int(c)] for c in minima])
    significant = min_persistence > cut
    significant[0] = True  # the global minimum, whatever the range

    # each minimum's significant ancestor: a ripple's basin joins the one it merges into
    ancestor = np.arange(len(minima))
    for k in range(len(minima)):  # oldest first, so a parent is resolved before its child
        if not significant[k]:
            ancestor[k] = ancestor[merges_into[k]]
    lookup = np.full(z.size, -1, dtype=np.int64)
    lookup[minima] = np.arange(len(minima))
    own_basin = lookup[drains_to]  # every cell drains to a minimum, so none stays -1
    basin_cells = np.bincount(own_basin, minlength=len(minima))
    basins = ancestor[own_basin].reshape(z.shape)

    n_cols = z.shape[1]
    cells = np.concatenate([minima, saddles, maxima]).astype(np.int64)
    partners = np.array([partner.get(int(c), -1) for c in cells], dtype=np.int64)
    spans = np.array([persistence.get(int(c), np.nan) for c in cells])
    points = pd.DataFrame({
        "type": ["minimum"] * len(minima) + ["saddle"] * len(saddles) + ["maximum"] * len(maxima),
        "row": cells // n_cols, "col": cells % n_cols, "loss": flat_z[cells],
        "multiplicity": np.where(change[cells] < 0, -change[cells], 1),
        "persistence": spans,
        "partner_row": np.where(partners >= 0, partners // n_cols, -1),
        "partner_col": np.where(partners >= 0, partners % n_cols, -1),
        "merges_into": np.concatenate([merges_into, np.full(len(cells) - len(minima), -1)]),
        "significant": np.concatenate([significant, spans[len(minima):] > cut]),
        "basin_cells": np.concatenate([basin_cells, np.zeros(len(cells) - len(minima), int)]),
    })
    finite_persistence = min_persistence[np.isfinite(min_persistence)]
    n_saddles = int(-change[saddles].sum())
    metrics = {
        "minima": len(minima), "saddles": n_saddles, "maxima": len(maxima),
        "significant_minima": int(significant.sum()),
        "significant_saddles": sum(significant_pairs),
        "significant_maxima": significant_pairs[1],
        "largest_persistence": float(finite_persistence.max()) if finite_persistence.size else 0.0,
        "euler_characteristic": len(minima) - n_saddles + len(maxima),
    }
    return Topology(points, basins, metrics)


def _difference(death: float, birth: float) -> float:
    """A persistence in loss units; inf where the saddle's loss is not finite."""
    return float(death - birth) if np.isfinite(death) and np.isfinite(birth) else np.inf


def _merge_tree(minima, births, deaths, drains_to, rank, index_of) -> np.ndarray:
    """For each minimum (oldest first), the older minimum whose component it joins at its
    death saddle (-1 for the global minimum).

    At a saddle, each lower neighbour drains (by steepest descent, which stays inside its
    sublevel component) to a minimum of its component; a union-find over the minima, merged
    in the order of the deaths, names each component by its oldest minimum.
    """
    parent = np.arange(len(minima))  # union-find over minima; a root is its set's oldest

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    n, m = rank.shape
    merges_into = np.full(len(minima), -1, dtype=np.int64)
    order = np.argsort(rank.ravel()[deaths], kind="stable")
    for birth, death in zip(births[order].tolist(), deaths[order].tolist()):
        r, c = divmod(death, m)
        roots = {find(index_of[int(drains_to[rr * m + cc])])
                 for rr in range(max(r - 1, 0), min(r + 2, n))
                 for cc in range(max(c - 1, 0), min(c + 2, m))
                 if rank[rr, cc] < rank[r, c]}
        dying = index_of[birth]
        others = roots - {dying}
        if find(dying) != dying or not others:
            raise AssertionError(f"persistence pair ({birth}, {death}) does not merge")
        oldest = min(others)  # minima are indexed oldest first
        merges_into[dying] = oldest
        parent[dying] = oldest
    return merges_into
