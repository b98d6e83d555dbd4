"""H @ V for many directions at one parameter vector: the R-operator of
sklandscape.model.gradients laid out for large matrix products.

gradients.hessian_vector_product batches over points and directions alike, as (k, n, w)
stacks of small products. At one point with k directions the forward pass is shared and
every R-quantity can be kept sample-major, (n, k, w): then each layer's products are single
GEMMs with k x w columns (X @ V for all directions at once, and so on), and the
activation derivatives broadcast over the direction axis. On digits [64, 32] this is several
times faster per product than the stacked form (benchmarks/curvature_benchmark.py); the
tests check it against that form and against the full Hessian.
"""

from __future__ import annotations

import numpy as np

from sklandscape.model.gradients import _forward, _output_delta, _penalty_step
from sklandscape.model.network import Network

PIECEWISE_LINEAR = ("identity", "relu")  # f'' = 0 wherever it exists


def forward_pass(net: Network, X: np.ndarray, flat: np.ndarray | None = None):
    """The forward pass hessian_matmat needs, to compute once for many calls at one point."""
    flat = net.flat if flat is None else np.asarray(flat, dtype=np.float64)
    # With second derivatives: the output's R-operator (gradients._output_delta) reads them.
    return _forward(net, flat, np.asarray(X, dtype=np.float64), second_order=True)


def hessian_matmat(net: Network, X: np.ndarray, y: np.ndarray, V: np.ndarray,
                   flat: np.ndarray | None = None, fwd=None,
                   n_samples: int | None = None) -> np.ndarray:
    """H(flat) @ v for every row v of V (k, P): returns (k, P). flat defaults to the net's;
    fwd, forward_pass(net, X, flat), saves recomputing it at every call. With `n_samples`,
    X and y are some of that many rows: their share of the mean loss's H @ v, without the
    penalty (added once, for all rows, by whoever sums the shares)."""
    V = np.atleast_2d(np.asarray(V, dtype=np.float64))
    k, n = V.shape[0], np.shape(X)[0]
    fwd = forward_pass(net, X, flat) if fwd is None else fwd
    layers, moves = fwd.layers, net.layers(V)  # moves: per layer (k, d, w) and (k, w)
    last = net.n_layers - 1
    smooth = net.activation not in PIECEWISE_LINEAR  # else f'' = 0: its term is skipped
    with np.errstate(over="ignore", invalid="ignore"):
        # R-forward, sample-major: rz[l] is (n, k, w).
        rz, r_in = [], [None]
        for index, (coef, _intercept) in enumerate(layers):
            v_coef, v_intercept = moves[index]
            d, w = coef.shape
            value = (fwd.inputs[index] @ v_coef.transpose(1, 0, 2).reshape(d, k * w)
                     ).reshape(n, k, w) + v_intercept[None, :, :]
            if r_in[index] is not None:
                value += (r_in[index].reshape(n * k, d) @ coef).reshape(n, k, w)
            rz.append(value)
            if index < last:
                r_in.append(fwd.first[index][:, None, :] * value)
        # The output's delta and R-operator as the stacked form has them; that R-operator
        # broadcasts (n, K) against (k, n, K), so it gets the directions-first view.
        delta, r_output = _output_delta(net, fwd, y, n_samples)
        r_delta = np.ascontiguousarray(r_output(rz[-1].transpose(1, 0, 2)).transpose(1, 0, 2))
        coef_parts, intercept_parts = [None] * (last + 1), [None] * (last + 1)
        for index in range(last, -1, -1):
            coef, _ = layers[index]
            v_coef, _ = moves[index]
            d, w = coef.shape
            # R{dL/dW} = input^T R{delta} + R{input}^T delta
            r_coef = (fwd.inputs[index].T @ r_delta.reshape(n, k * w)).reshape(d, k, w)
            r_coef = r_coef.transpose(1, 0, 2)
            if r_in[index] is not None:
                r_coef = r_coef + (r_in[index].reshape(n, k * d).T @ delta).reshape(k, d, w)
            coef_parts[index] = r_coef.reshape(k, d * w)
            intercept_parts[index] = r_delta.sum(axis=0)
            if index == 0:
                break
            upstream = delta @ coef.T  # (n, d)
            r_upstream = (r_delta.reshape(n * k, w) @ coef.T).reshape(n, k, d)
            r_upstream += (delta @ v_coef.transpose(2, 0, 1).reshape(w, k * d)).reshape(n, k, d)
            below = index - 1
            first = fwd.first[below][:, None, :]
            r_delta = r_upstream * first
            if smooth:
                r_delta += (upstream * fwd.second[below])[:, None, :] * rz[below]
            delta = upstream * fwd.first[below]
    parts = []
    for coef_part, intercept_part in zip(coef_parts, intercept_parts):
        parts += [coef_part, intercept_part]
    out = np.concatenate(parts, axis=1)
    return out if n_samples is not None else out + _penalty_step(net, V, len(y))


def penalty_product(net: Network, V: np.ndarray, n_samples: int):
    """The L2 penalty's share of H @ v (scikit-learn's objective; 0 otherwise), for the rows
    of V: what hessian_matmat leaves out when given `n_samples`."""
    return _penalty_step(net, V, n_samples)


def piecewise_linear_trace(net: Network, X: np.ndarray, y: np.ndarray,
                           flat: np.ndarray | None = None) -> float:
    """tr(H) exactly, for a network whose hidden activation is relu or identity.

    Such a network's output is piecewise linear in each single weight, so the second
    derivative of the output along one weight vanishes (almost everywhere) and the Hessian's
    diagonal equals the Gauss-Newton matrix's: sum over samples n and output columns c of
    (J_n^T s_nc)^2, with A_n = S_n S_n^T the loss's Hessian in the output. That is one backward
    pass per output column (K at once), then per layer (input^2)^T (delta^2): about K
    gradients' work, and no random probes.
    """
    if net.activation not in PIECEWISE_LINEAR:
        raise ValueError(f"the exact trace needs relu or identity hidden units, not "
                         f"{net.activation!r}; use Hutchinson's estimator")
    flat = net.flat if flat is None else np.asarray(flat, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    fwd = _forward(net, flat, X)
    n = X.shape[0]
    delta = _output_root(net, fwd, y)  # (n, K columns of S, K outputs)
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for index in range(net.n_layers - 1, -1, -1):
            coef, _ = fwd.layers[index]
            squares = delta * delta  # (n, c, w)
            inputs = fwd.inputs[index]
            # sum_n sum_c a_ni^2 delta_ncj^2 over i, j; and the intercepts' sum_n delta_ncj^2
            total += float(np.sum((inputs * inputs).sum(axis=1) @ squares.sum(axis=2)))
            total += float(squares.sum())
            if index == 0:
                break
            delta = (delta @ coef.T) * fwd.first[index - 1][:, None, :]
    if net.objective == "sklearn" and net.alpha:
        total += net.alpha / n * float(np.sum(net.coef_mask))
    return total


def _output_root(net: Network, fwd, y: np.ndarray) -> np.ndarray:
    """S_n with A_n = S_n S_n^T, A_n the loss's Hessian in the output pre-activation, as
    (n, columns, outputs): the backward pass' starting deltas, one per column."""
    n = fwd.output.shape[-2]
    if net.is_classifier:
        p = fwd.output
        if net.out_activation == "logistic":
            return np.sqrt(p * (1.0 - p) / n)[:, None, :]
        # diag p - p p^T = (diag sqrt p - p sqrt p^T)(...)^T since sum p = 1
        root = np.sqrt(p)
        S = (np.eye(p.shape[1])[None] * root[:, None, :]) - root[:, :, None] * p[:, None, :]
        return S / np.sqrt(n)  # S[n, c, :]: column c of the root, transposed
    k = fwd.output.shape[-1]
    scale = (1.0 if net.objective == "sklearn" else 2.0) / k / n
    first = fwd.first[-1]  # identity output: ones
    return np.sqrt(scale) * (np.eye(k)[None] * first[:, None, :])
