"""Directions in weight space along which a landscape is drawn.

- pairs of named weights (every pair, or a chosen subset);
- random planes with filter normalisation (Li et al. 2018, "Visualizing the Loss Landscape
  of Neural Nets");
- the line from the initial to the trained weights (Goodfellow et al. 2015, "Qualitatively
  characterizing neural network optimization problems");
- the PCA plane of a training path, with each path point's distance from that plane.

Pure functions over flat parameter vectors in Network's order; no evaluation happens here.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from sklandscape.model.network import Network, parameter_index, parameter_names

# --- pairs of named weights ------------------------------------------------------------

# A corner plot of more weights has panels too small to read (25 weights: 300 pairs).
MAX_CORNER_WEIGHTS = 25



def weight_pairs(layer_sizes, axes) -> list[tuple[str, str]]:
    """The pairs a `weight_pairs` landscape maps.

    axes: "all" (every pair of the network's weights), a list of names (every pair among
    them) or a list of [name, name] pairs. Pairs keep the network's flat order inside each
    pair, so (x, y) always has x before y, as in the lower triangle of a corner plot.
    """
    names = parameter_names(layer_sizes)
    if axes == "all":
        chosen = [tuple(p) for p in combinations(names, 2)]
    elif isinstance(axes, (list, tuple)) and axes and all(isinstance(a, str) for a in axes):
        for name in axes:
            parameter_index(layer_sizes, name)  # unknown names fail here, with the valid ones
        if len(set(axes)) != len(axes):
            raise ValueError(f"weight_pairs axes name a weight twice: {list(axes)}")
        ordered = sorted(axes, key=names.index)
        chosen = [tuple(p) for p in combinations(ordered, 2)]
    elif isinstance(axes, (list, tuple)) and axes and all(
            isinstance(p, (list, tuple)) and len(p) == 2 for p in axes):
        chosen = []
        for x, y in axes:
            if x == y:
                raise ValueError(f"weight_pairs: the pair [{x!r}, {y!r}] names one weight twice")
            pair = tuple(sorted((x, y), key=lambda n: parameter_index(layer_sizes, n)))
            if pair in chosen:
                raise ValueError(f"weight_pairs: the pair {list(pair)} is listed twice")
            chosen.append(pair)
    else:
        raise ValueError(f"weight_pairs axes must be 'all', a list of weight names or a list "
                         f"of [name, name] pairs, got {axes!r}")
    if not chosen:
        raise ValueError("weight_pairs needs at least two weights")
    return chosen


# --- random filter-normalised planes (Li et al. 2018) ----------------------------------


def neuron_groups(layer_sizes, with_bias: bool) -> list[np.ndarray]:
    """Flat indices of each neuron's incoming weights (plus its bias if `with_bias`).

    A dense layer's "filter" in Li et al.'s sense: column j of coefs_[l] feeds unit j.
    """
    sizes = list(layer_sizes)
    groups, start = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        coef = np.arange(start, start + n_in * n_out).reshape(n_in, n_out)
        bias = np.arange(start + n_in * n_out, start + n_in * n_out + n_out)
        for j in range(n_out):
            groups.append(np.append(coef[:, j], bias[j]) if with_bias else coef[:, j])
        start += n_in * n_out + n_out
    return groups


def bias_indices(layer_sizes) -> np.ndarray:
    names = parameter_names(layer_sizes)
    return np.array([k for k, name in enumerate(names) if name.startswith("b")], dtype=np.int64)


def filter_normalise(net: Network, direction: np.ndarray, zero_biases: bool = True) -> np.ndarray:
    """Scale each neuron's slice of `direction` to the norm of the trained neuron's weights.

    zero_biases=True (Li et al.'s choice): bias entries become 0 and each neuron's incoming
    weights are normalised. False: each neuron's incoming weights and bias are normalised
    together, as one vector. A neuron whose direction slice is all zero stays zero.
    """
    d = np.array(direction, dtype=np.float64, copy=True)
    if d.shape != net.flat.shape:
        raise ValueError(f"direction has shape {d.shape}; the network has {net.flat.size} "
                         "parameters")
    if zero_biases:
        d[bias_indices(net.layer_sizes)] = 0.0
    for group in neuron_groups(net.layer_sizes, with_bias=not zero_biases):
        norm = np.linalg.norm(d[group])
        if norm > 0:
            d[group] *= np.linalg.norm(net.flat[group]) / norm
    return d


def random_plane(net: Network, seed: int, zero_biases: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Two filter-normalised Gaussian directions, both drawn from `seed`.

    Like Li et al., the two are not orthogonalised (for a large network they nearly are);
    `cosine` reports how far from orthogonal they came out.
    """
    rng = np.random.default_rng(seed)
    first = filter_normalise(net, rng.standard_normal(net.flat.size), zero_biases)
    second = filter_normalise(net, rng.standard_normal(net.flat.size), zero_biases)
    return first, second


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    norms = np.linalg.norm(u) * np.linalg.norm(v)
    return float(np.dot(u, v) / norms) if norms > 0 else float("nan")


# --- 1-D interpolation (Goodfellow et al. 2015) ----------------------------------------


def interpolation_alphas(low: float, high: float, resolution: int) -> np.ndarray:
    """`resolution` points over [low, high]; 0 and 1 are exact when they lie on the grid."""
    if not high > low:
        raise ValueError(f"interpolation range must be [low, high] with high > low, got "
                         f"[{low}, {high}]")
    alphas = np.linspace(low, high, resolution)
    step = (high - low) / max(1, resolution - 1)
    for exact in (0.0, 1.0):
        near = np.abs(alphas - exact) < 1e-6 * step  # linspace rounding, not a real offset
        alphas[near] = exact
    return alphas


def interpolation_points(start: np.ndarray, end: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """(1 - alpha) * start + alpha * end for each alpha: alpha 0 is `start`, 1 is `end`, exactly."""
    alphas = np.asarray(alphas, dtype=np.float64)[:, None]
    return (1.0 - alphas) * np.asarray(start, np.float64) + alphas * np.asarray(end, np.float64)


# --- PCA plane of a training path ------------------------------------------------------


@dataclass(frozen=True)
class PathPlane:
    """The plane through `origin` that best fits a path, and the path seen from it."""

    origin: np.ndarray  # (P,): the trained weights
    directions: np.ndarray  # (2, P), orthonormal
    coordinates: np.ndarray  # (n, 2): each path point's projection, as (a, b)
    distances: np.ndarray  # (n,): each path point's distance from the plane
    offsets: np.ndarray  # (n,): each path point's distance from the origin
    explained: np.ndarray  # (2,): share of the path's squared offsets each direction holds

    @property
    def projected(self) -> np.ndarray:
        """The projections as parameter vectors: origin + a * d1 + b * d2."""
        return self.origin + self.coordinates @ self.directions


def trajectory_plane(states: np.ndarray, origin: np.ndarray) -> PathPlane:
    """PCA of the offsets theta_i - origin, with the plane anchored at `origin`.

    The offsets are not mean-centred (Li et al.'s code centres them, yet draws the plane
    through the trained weights): the plane through `origin` spanned by the two leading
    right singular vectors is the one that minimises the path's summed squared distance
    among all planes through `origin`, so `explained` and `distances` describe the plane
    that is drawn. Signs are fixed so that the path's first point has a >= 0 and b >= 0.
    """
    states = np.atleast_2d(np.asarray(states, dtype=np.float64))
    origin = np.asarray(origin, dtype=np.float64)
    if states.shape[1] != origin.size or origin.size < 2:
        raise ValueError(f"a path plane needs >= 2 parameters and states of width "
                         f"{origin.size}, got states of shape {states.shape}")
    offsets = states - origin
    _, singular, vt = np.linalg.svd(offsets, full_matrices=False)
    directions = _complete_pair(vt[:2], origin.size)
    coordinates = offsets @ directions.T
    for k in range(2):
        start = coordinates[0, k]
        if start < 0 or (start == 0 and directions[k][np.argmax(np.abs(directions[k]))] < 0):
            directions[k] *= -1
            coordinates[:, k] *= -1
    residual = offsets - coordinates @ directions
    total = float(np.sum(singular**2))
    padded = np.zeros(2)
    padded[: min(2, singular.size)] = singular[:2] ** 2
    explained = padded / total if total > 0 else np.full(2, np.nan)
    return PathPlane(origin, directions, coordinates, np.linalg.norm(residual, axis=1),
                     np.linalg.norm(offsets, axis=1), explained)


def _complete_pair(rows: np.ndarray, size: int) -> np.ndarray:
    """Two orthonormal rows: the given ones, completed from the standard basis if a path
    spans fewer than two dimensions (e.g. a single step)."""
    basis = [r / np.linalg.norm(r) for r in rows if np.linalg.norm(r) > 0]
    for k in np.argsort([np.abs(basis[0][k]) if basis else 0 for k in range(size)], kind="stable"):
        if len(basis) == 2:
            break
        candidate = np.zeros(size)
        candidate[k] = 1.0
        for b in basis:
            candidate -= np.dot(candidate, b) * b
        if np.linalg.norm(candidate) > 1e-8:
            basis.append(candidate / np.linalg.norm(candidate))
    return np.array(basis[:2])
