"""Permutation alignment of two networks of one architecture (Ainsworth et al. 2022, "git
re-basin"; Entezari et al. 2022).

Permuting a hidden layer's units (the columns of the weights into it, its biases, and the rows
of the weights out of it) leaves the network's function unchanged. Two trainings from
different seeds may find the same solution up to such a permutation; aligning one to the other
before comparing them removes that symmetry.

A permutation of hidden layer k is an integer array `perm` with the aligned network's unit i
being the original's unit perm[i]. Both searches are assignment problems per layer
(scipy.optimize.linear_sum_assignment, maximising a similarity):

- weight matching: the similarity of unit i of the reference and unit j of the other is the
  inner product of their incoming weights (the rows from the layer below taken in its aligned
  order), biases and outgoing weights (the columns into the layer above in its aligned
  order). Each layer depends on its neighbours' permutations, so it is coordinate descent:
  a first sweep with incoming weights only (exact when one network is a permuted copy of the
  other), then full sweeps until one changes nothing.
- activation matching: the correlation of the units' activations on data. A layer's
  activations do not depend on any permutation, so each layer is solved once.

Only permutations: tanh's sign symmetry (w -> -w in and out) is not searched.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from sklandscape.model.network import Network, hidden_before

METHODS = ("weight", "activation")
MAX_SWEEPS = 100


def check_same_architecture(reference: Network, other: Network, what="the other network"):
    """Refuse two networks that cannot be aligned or joined by a path."""
    for attribute in ("layer_sizes", "activation", "out_activation", "classes"):
        mine, theirs = getattr(reference, attribute), getattr(other, attribute)
        if mine != theirs:
            raise ValueError(f"{what} differs from the reference in its {attribute}: "
                             f"{theirs!r} against {mine!r}; paths need one architecture")
    if reference.scaler != other.scaler:
        raise ValueError(f"{what} scales its inputs differently from the reference (another "
                         "scaler fit): its weights act on other inputs, so no path joins them")


def permuted(net: Network, perms: list[np.ndarray]) -> Network:
    """The same function with hidden layer k's units reordered by perms[k] (values moved,
    never recomputed: permuting back gives the original bit for bit)."""
    if len(perms) != net.n_layers - 1:
        raise ValueError(f"{len(perms)} permutations for {net.n_layers - 1} hidden layers")
    flat = net.flat.copy()
    layers = net.layers(flat)  # views into flat
    original = net.layers()
    for k, perm in enumerate(perms):
        perm = np.asarray(perm, dtype=np.int64)
        if sorted(perm.tolist()) != list(range(net.layer_sizes[k + 1])):
            raise ValueError(f"hidden layer {k + 1}: {perm.tolist()} is not a permutation of "
                             f"its {net.layer_sizes[k + 1]} units")
    for index, (coef, intercept) in enumerate(layers):
        # rows come from the layer below (permuted by perms[index - 1]), columns and biases
        # belong to this layer's units (permuted by perms[index], none for the output)
        rows = perms[index - 1] if index > 0 else slice(None)
        columns = perms[index] if index < len(perms) else slice(None)
        coef[...] = original[index][0][rows][:, columns]
        intercept[...] = original[index][1][columns]
    return net.with_flat(flat)


def _assign(similarity: np.ndarray) -> np.ndarray:
    rows, columns = linear_sum_assignment(similarity, maximize=True)
    return columns[np.argsort(rows)].astype(np.int64)


def _layer_similarity(ref, other, perms, k: int, outgoing: bool) -> np.ndarray:
    """Similarity of hidden layer k's units: reference unit i against other's unit j."""
    coef_ref, bias_ref = ref[k]
    coef_other, bias_other = other[k]
    if k > 0:
        coef_other = coef_other[perms[k - 1]]
    similarity = coef_ref.T @ coef_other + np.outer(bias_ref, bias_other)
    if outgoing:
        out_ref, out_other = ref[k + 1][0], other[k + 1][0]
        if k + 1 < len(perms):
            out_other = out_other[:, perms[k + 1]]
        similarity += out_ref @ out_other.T
    return similarity


def weight_matching(reference: Network, other: Network) -> list[np.ndarray]:
    """Permutations of `other`'s hidden layers that maximise the inner product of its weights
    with the reference's (coordinate descent over the layers, each an assignment problem)."""
    check_same_architecture(reference, other)
    ref, oth = reference.layers(), other.layers()
    perms = [np.arange(size) for size in reference.layer_sizes[1:-1]]
    for k in range(len(perms)):  # forward, each layer given the one below: exact for copies
        perms[k] = _assign(_layer_similarity(ref, oth, perms, k, outgoing=False))
    for _ in range(MAX_SWEEPS):
        changed = False
        for k in range(len(perms)):
            found = _assign(_layer_similarity(ref, oth, perms, k, outgoing=True))
            if not np.array_equal(found, perms[k]):
                perms[k], changed = found, True
        if not changed:
            break
    return perms


def _standardised(values: np.ndarray) -> np.ndarray:
    centred = values - values.mean(axis=0)
    scale = np.sqrt((centred**2).mean(axis=0))
    # a constant unit (a dead ReLU) correlates with nothing: zeros, not nan
    return np.divide(centred, scale, out=np.zeros_like(centred), where=scale > 0)


def activation_matching(reference: Network, other: Network, X: np.ndarray) -> list[np.ndarray]:
    """Permutations of `other`'s hidden layers that maximise the correlation of each unit's
    activations with its reference unit's, on the rows X (in the data's own units)."""
    check_same_architecture(reference, other)
    X = np.asarray(X, dtype=np.float64)
    perms = []
    for k in range(1, reference.n_layers):
        # hidden layer k's activations are what feeds layer k + 1
        a, b = (_standardised(hidden_before(net, X, k + 1)) for net in (reference, other))
        perms.append(_assign(a.T @ b / len(X)))
    return perms


def alignment_perms(reference: Network, other: Network, method: str = "weight",
                    X: np.ndarray | None = None) -> list[np.ndarray]:
    """The permutations of `method` ("weight" or "activation", which needs X)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    if method == "activation":
        if X is None:
            raise ValueError("activation matching needs data: pass X")
        return activation_matching(reference, other, X)
    return weight_matching(reference, other)
