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

An odd activation (tanh, identity) has a second symmetry: negating a unit's incoming weights,
bias and outgoing weights leaves the function unchanged, as tanh(-z) = -tanh(z). For those,
each unit also gets a sign (a signed permutation): the similarity of i and j flipped is minus
that of i and j, so the assignment takes |similarity| and the sign of the match. Without the
signs, two tanh networks that differ by a flip look far apart and their "aligned" path can cross
a higher barrier than the raw one (measured on the article's N1 and N2, docs/findings.md).
ReLU has no sign symmetry; the logistic's is affine (it moves the next layer's biases) and is
not searched.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from sklandscape.model.network import Network, hidden_before

METHODS = ("weight", "activation")
MAX_SWEEPS = 100
ODD_ACTIVATIONS = ("tanh", "identity")  # f(-z) = -f(z): a unit's sign is a symmetry


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


def permuted(net: Network, perms: list[np.ndarray], signs: list[np.ndarray] | None = None
             ) -> Network:
    """The same function with hidden layer k's units reordered by perms[k] and, for an odd
    activation, negated where signs[k] is -1 (values moved and negated, never recomputed:
    undoing it gives the original bit for bit)."""
    if len(perms) != net.n_layers - 1:
        raise ValueError(f"{len(perms)} permutations for {net.n_layers - 1} hidden layers")
    if signs is None:
        signs = [np.ones(size) for size in net.layer_sizes[1:-1]]
    for k, (perm, sign) in enumerate(zip(perms, signs, strict=True)):
        perm = np.asarray(perm, dtype=np.int64)
        if sorted(perm.tolist()) != list(range(net.layer_sizes[k + 1])):
            raise ValueError(f"hidden layer {k + 1}: {perm.tolist()} is not a permutation of "
                             f"its {net.layer_sizes[k + 1]} units")
        if not np.all(np.abs(sign) == 1) or len(sign) != len(perm):
            raise ValueError(f"hidden layer {k + 1}: signs must be ±1, one per unit")
        if np.any(sign < 0) and net.activation not in ODD_ACTIVATIONS:
            raise ValueError(f"hidden layer {k + 1}: a sign flip keeps the function only for "
                             f"an odd activation ({', '.join(ODD_ACTIVATIONS)}), not "
                             f"{net.activation!r}")
    flat = net.flat.copy()
    layers = net.layers(flat)  # views into flat
    original = net.layers()
    for index, (coef, intercept) in enumerate(layers):
        # rows come from the layer below (its perm and sign), columns and biases belong to
        # this layer's units (this layer's perm and sign; none for the output)
        values, bias = original[index]
        if index > 0:
            values = values[perms[index - 1]] * signs[index - 1][:, None]
        if index < len(perms):
            values = values[:, perms[index]] * signs[index]
            bias = bias[perms[index]] * signs[index]
        coef[...], intercept[...] = values, bias
    return net.with_flat(flat)


def _assign(similarity: np.ndarray, odd: bool) -> tuple[np.ndarray, np.ndarray]:
    """The matching maximising the total similarity, and each match's sign (all +1 unless
    the activation is odd, where a flipped unit's similarity is the negative)."""
    rows, columns = linear_sum_assignment(np.abs(similarity) if odd else similarity,
                                          maximize=True)
    perm = columns[np.argsort(rows)].astype(np.int64)
    matched = similarity[np.arange(len(perm)), perm]
    return perm, np.where(odd & (matched < 0), -1.0, 1.0)


def _layer_similarity(ref, other, perms, signs, k: int, outgoing: bool) -> np.ndarray:
    """Similarity of hidden layer k's units: reference unit i against other's unit j (with
    the neighbouring layers' perms and signs applied to other)."""
    coef_ref, bias_ref = ref[k]
    coef_other, bias_other = other[k]
    if k > 0:
        coef_other = coef_other[perms[k - 1]] * signs[k - 1][:, None]
    similarity = coef_ref.T @ coef_other + np.outer(bias_ref, bias_other)
    if outgoing:
        out_ref, out_other = ref[k + 1][0], other[k + 1][0]
        if k + 1 < len(perms):
            out_other = out_other[:, perms[k + 1]] * signs[k + 1]
        similarity += out_ref @ out_other.T
    return similarity


def weight_matching(reference: Network, other: Network
                    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Permutations (and, for an odd activation, signs) of `other`'s hidden layers that
    maximise the inner product of its weights with the reference's: coordinate descent over
    the layers, each an assignment problem."""
    check_same_architecture(reference, other)
    odd = reference.activation in ODD_ACTIVATIONS
    ref, oth = reference.layers(), other.layers()
    perms = [np.arange(size) for size in reference.layer_sizes[1:-1]]
    signs = [np.ones(size) for size in reference.layer_sizes[1:-1]]
    for k in range(len(perms)):  # forward, each layer given the one below: exact for copies
        perms[k], signs[k] = _assign(_layer_similarity(ref, oth, perms, signs, k, False), odd)
    for _ in range(MAX_SWEEPS):
        changed = False
        for k in range(len(perms)):
            perm, sign = _assign(_layer_similarity(ref, oth, perms, signs, k, True), odd)
            if not (np.array_equal(perm, perms[k]) and np.array_equal(sign, signs[k])):
                perms[k], signs[k], changed = perm, sign, True
        if not changed:
            break
    return perms, signs


def _standardised(values: np.ndarray) -> np.ndarray:
    centred = values - values.mean(axis=0)
    scale = np.sqrt((centred**2).mean(axis=0))
    # a constant unit (a dead ReLU) correlates with nothing: zeros, not nan
    return np.divide(centred, scale, out=np.zeros_like(centred), where=scale > 0)


def activation_matching(reference: Network, other: Network, X: np.ndarray
                        ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Permutations (and, for an odd activation, signs) of `other`'s hidden layers that
    maximise the correlation of each unit's activations with its reference unit's, on the
    rows X (in the data's own units). A flipped tanh unit's activations are negated."""
    check_same_architecture(reference, other)
    odd = reference.activation in ODD_ACTIVATIONS
    X = np.asarray(X, dtype=np.float64)
    perms, signs = [], []
    for k in range(1, reference.n_layers):
        # hidden layer k's activations are what feeds layer k + 1
        a, b = (_standardised(hidden_before(net, X, k + 1)) for net in (reference, other))
        perm, sign = _assign(a.T @ b / len(X), odd)
        perms.append(perm)
        signs.append(sign)
    return perms, signs


def alignment_perms(reference: Network, other: Network, method: str = "weight",
                    X: np.ndarray | None = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The permutations and signs of `method` ("weight" or "activation", which needs X), for
    `permuted(other, perms, signs)`."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    if method == "activation":
        if X is None:
            raise ValueError("activation matching needs data: pass X")
        return activation_matching(reference, other, X)
    return weight_matching(reference, other)
