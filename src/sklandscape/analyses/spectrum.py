"""The Hessian's spectrum without forming the Hessian: exact Hessian-vector products (the
R-operator of sklandscape.model.gradients) behind scipy's Lanczos (eigsh) for the extreme
eigenpairs, Hutchinson's estimator for the trace, and stochastic Lanczos quadrature for
the eigenvalue density.

These are PyHessian's three estimators (Yao et al. 2020), with Lanczos instead of power
iteration for the eigenvalues (converged to machine precision, k at once) and with the
products batched: k directions share one forward pass. Up to a size the full Hessian is
cheaper and exact (sklandscape.analyses.curvature.hessian_report); it is the reference these
are tested against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sklandscape.model.hessian_products import (
    PIECEWISE_LINEAR,
    forward_pass,
    hessian_matmat,
    penalty_product,
    piecewise_linear_trace,
)
from sklandscape.model.network import Network

# Directions per batched product: samples x (sum of layer widths) x directions stays under
# this (the R-operator keeps about ten arrays of that size; ~300 MB).
BLOCK_WORK = 2**22


# Rows per share of a product: more rows than this are split into equal shares, computed
# one after another or, with n_jobs, side by side in threads (numpy releases the GIL in its
# products and loops), then summed in order: the same bits for every n_jobs.
ROWS_PER_SHARE = 512


class HessianOperator:
    """H @ V for the loss of `net` on X, y at `flat` (default: the trained weights)."""

    def __init__(self, net: Network, X, y, flat: np.ndarray | None = None, progress=None,
                 n_jobs=None):
        self.net, self.X, self.y = net, np.asarray(X, dtype=np.float64), np.asarray(y)
        self.flat = net.flat if flat is None else np.asarray(flat, dtype=np.float64)
        self.size = len(self.flat)
        self.block = max(1, BLOCK_WORK // (len(self.y) * sum(net.layer_sizes)))
        n = len(self.y)
        count = -(-n // ROWS_PER_SHARE)
        edges = [n * k // count for k in range(count + 1)]
        self.shares = [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]
        # the forward pass of each share, shared by every product
        self.fwds = [forward_pass(net, self.X[rows], self.flat) for rows in self.shares]
        from joblib import effective_n_jobs

        self.workers = min(effective_n_jobs(n_jobs), len(self.shares))
        self.products = 0
        self.progress = progress  # called with the product count after every batch

    def matmat(self, V: np.ndarray) -> np.ndarray:
        """H @ V for V (P, k)."""
        V = np.asarray(V, dtype=np.float64)
        out = np.empty_like(V)
        pool = None
        if self.workers > 1:
            from concurrent.futures import ThreadPoolExecutor

            pool = ThreadPoolExecutor(self.workers)
        try:
            for start in range(0, V.shape[1], self.block):
                part = V[:, start : start + self.block].T
                out[:, start : start + part.shape[0]] = self._product(part, pool).T
                self.products += part.shape[0]
                if self.progress is not None:
                    self.progress(self.products)
        finally:
            if pool is not None:
                pool.shutdown()
        return out

    def _product(self, V: np.ndarray, pool) -> np.ndarray:
        """H @ v for the rows v of V (k, P): the shares' sum in order, plus the penalty."""
        n = len(self.y)

        def share(k):
            rows = self.shares[k]
            return hessian_matmat(self.net, self.X[rows], self.y[rows], V, self.flat,
                                  self.fwds[k], n_samples=n)

        found = list(pool.map(share, range(len(self.shares))) if pool else
                     map(share, range(len(self.shares))))
        total = found[0]
        for more in found[1:]:
            total += more
        return total + penalty_product(self.net, V, n)

    def matvec(self, v: np.ndarray) -> np.ndarray:
        return self.matmat(np.reshape(v, (-1, 1)))[:, 0]

    def linear_operator(self):
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator((self.size, self.size), matvec=self.matvec, matmat=self.matmat,
                              dtype=np.float64)


def signed_columns(vectors: np.ndarray) -> np.ndarray:
    """Eigenvectors (columns) with their largest component positive: reproducible tables."""
    pick = np.argmax(np.abs(vectors), axis=0)
    signs = np.sign(vectors[pick, np.arange(vectors.shape[1])])
    return vectors * np.where(signs == 0, 1.0, signs)


@dataclass(frozen=True)
class Eigenpairs:
    values: np.ndarray  # ascending
    vectors: np.ndarray  # (P, k), columns match values
    converged: bool


def extreme_eigenpairs(op: HessianOperator, k: int, which: str = "LA", seed: int = 0,
                       max_products: int | None = None) -> Eigenpairs:
    """The k largest ("LA") or smallest ("SA") eigenvalues and their eigenvectors, by
    implicitly restarted Lanczos (ARPACK through scipy's eigsh).

    The largest are asked for to a residual of 1e-10 relative, which puts them within about
    1e-15 of the exact ones (an eigenvalue's error goes as the residual squared): on digits
    [64, 32] 33 products where tol=0 took 47, for the same digits. The smallest of a trained
    network sit in a dense cluster around zero, where Lanczos converges slowly: they are
    asked for to 1e-6 relative (to themselves), and after `max_products` products (default 200 k + 400)
    the eigenpairs ARPACK has converged are returned with converged=False.
    """
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    k = min(int(k), op.size - 1)
    v0 = np.random.default_rng(seed).standard_normal(op.size)
    # A wide Krylov space for the crowded bottom: on digits [64, 32] 120 vectors converged
    # in 806 products where 20 had not in 1,345.
    budget = max_products or 200 * k + 400
    ncv = min(op.size, max(2 * k + 1, 20 if which == "LA" else min(120, budget // 4)))
    try:
        values, vectors = eigsh(op.linear_operator(), k=k, which=which, v0=v0, ncv=ncv,
                                tol=1e-10 if which == "LA" else 1e-6,
                                maxiter=max(1, budget // (ncv - k)))
        converged = True
    except ArpackNoConvergence as error:  # it may have converged all k at its last step
        values, vectors = error.eigenvalues, error.eigenvectors
        converged = len(values) >= k
    order = np.argsort(values)
    return Eigenpairs(values[order], signed_columns(vectors[:, order]), converged)


@dataclass(frozen=True)
class Subspace:
    """Directions (rows, not necessarily orthonormal) and H applied to each (rows): the
    Krylov spaces a Lanczos run has already paid for, reusable by bottom_eigenpairs."""

    vectors: np.ndarray  # (m, P)
    images: np.ndarray  # (m, P)


def bottom_eigenpairs(op: HessianOperator, k: int, resolution: float, seed: int = 0,
                     max_products: int | None = None, block: int = 2,
                     start: Subspace | None = None) -> Eigenpairs:
    """The k smallest eigenpairs, each value within `resolution` of the exact one, by
    Rayleigh-Ritz on a growing subspace: every step adds H's residuals of the `block`
    least converged of the k smallest Ritz pairs.

    From a random block, the residuals span the next block of the block Krylov space, so
    this is block Lanczos with full reorthogonalisation; from `start` (the quadrature's
    Lanczos runs, which cost nothing more here) it goes on from what they found. With H
    applied to every direction kept, the projected matrix and each Ritz pair's true residual
    |H v - theta v| are exact, whatever the subspace.

    Why not ARPACK as for the top: the bottom of a trained network is a crowd around zero.
    Asked for to its own relative precision, ARPACK ran out of ~900 products on digits
    [256, 256]; asked for to an absolute residual, it restarts its small Krylov space (ncv)
    and needed ~680, one product per call. Here the subspace is kept whole (the Ritz values
    only improve), two directions share each batched product (an eigenvalue twice over, as
    from two identical units, would show only once in a single-vector Krylov space), and
    the run stops as soon as the k smallest Ritz pairs' residuals are within a tenth of
    `resolution`. A residual r puts theta within r of *an* eigenvalue, not of the k-th
    smallest: stopped at r = resolution, the fifth Ritz value of a test network came from the
    crowd near zero before the subspace had found the fifth negative eigenvalue (off by 1.4
    resolutions); at a tenth, every value was within 0.02 resolutions. At 85,002 weights,
    from a random block: 294 products; from the quadrature's 4 x 80: 112 more.
    """
    from scipy.linalg import eigh

    size = op.size
    k = min(int(k), size)
    block = max(1, min(int(block), size))
    budget = max_products or 200 * k + 400
    stop = resolution / 10
    rng = np.random.default_rng(seed)
    first = _orthonormal(start) if start is not None else None
    n = 0 if first is None else len(first[0])
    # Room for every direction the budget allows: np.empty maps no page until it is written.
    rows = min(size, max(n, block) + budget + block)
    V, HV = np.empty((rows, size)), np.empty((rows, size))
    A, M = np.zeros((rows, rows)), np.zeros((rows, rows))  # V H V^T and HV HV^T
    spent = 0
    Z = None if n else np.linalg.qr(rng.standard_normal((size, block)))[0].T
    if n:
        V[:n], HV[:n] = first
        A[:n, :n], M[:n, :n] = _symmetric(V[:n] @ HV[:n].T), HV[:n] @ HV[:n].T
    while True:
        if Z is not None:  # add the directions Z and their images
            b = len(Z)
            V[n : n + b], HV[n : n + b] = Z, op.matmat(Z.T).T
            spent += b
            # one pass over the images for both (the run is bound by reading V and HV)
            both = np.vstack([V[n : n + b], HV[n : n + b]]) @ HV[: n + b].T
            A[n : n + b, : n + b], M[n : n + b, : n + b] = both[:b], both[b:]
            for gram in (A, M):
                gram[:n, n : n + b] = gram[n : n + b, :n].T
                gram[n : n + b, n : n + b] = _symmetric(gram[n : n + b, n : n + b])
            n += b
        values, vectors = eigh(A[:n, :n])
        wanted = vectors[:, :k]
        # |H v - theta v|^2 = c^T M c - theta^2 for v = V^T c (V orthonormal, c^T A c = theta)
        squares = np.einsum("ij,ij->j", wanted, M[:n, :n] @ wanted) - values[:k] ** 2
        residuals = np.sqrt(np.maximum(squares, 0.0))
        done = len(residuals) == k and np.all(residuals <= stop)
        if done:  # confirmed on the vectors themselves, not only on the Gram matrices
            exact = wanted.T @ HV[:n] - values[:k, None] * (wanted.T @ V[:n])
            residuals = np.linalg.norm(exact, axis=1)
            done = np.all(residuals <= stop)
        if done or spent >= budget or n + block > rows:
            break
        pick = np.argsort(-residuals)[:block]
        Z = wanted[:, pick].T @ HV[:n] - values[pick, None] * (wanted[:, pick].T @ V[:n])
        if len(Z) < block:  # fewer Ritz pairs than a block: random directions fill it
            Z = np.vstack([Z, rng.standard_normal((block - len(Z), size))])
        # Residuals are orthogonal to V but for rounding: one Gram-Schmidt pass, a second
        # only on cancellation ("twice is enough")
        before = np.linalg.norm(Z, axis=1)
        if np.any(before == 0):  # an exact eigenvector has no residual: a random direction
            Z[before == 0] = rng.standard_normal((int(np.sum(before == 0)), size))
            before = np.linalg.norm(Z, axis=1)
        Z -= (Z @ V[:n].T) @ V[:n]
        if np.any(np.linalg.norm(Z, axis=1) < 0.7 * before):
            Z -= (Z @ V[:n].T) @ V[:n]
        Z, R = np.linalg.qr((Z / np.linalg.norm(Z, axis=1, keepdims=True)).T)
        Z = Z.T
        if np.min(np.abs(np.diag(R))) < 0.7:
            Z -= (Z @ V[:n].T) @ V[:n]  # nearly parallel: QR's second direction is rounding
            Z = np.linalg.qr(Z.T)[0].T
    # what converged, from the bottom up: a pair above an unconverged one is not "the k-th"
    kept = int(np.argmin(np.append(residuals <= stop, False)))
    return Eigenpairs(values[:kept], signed_columns(V[:n].T @ vectors[:, :kept]), kept >= k)


def _orthonormal(start: Subspace) -> tuple[np.ndarray, np.ndarray]:
    """An orthonormal basis of start's directions (rows), with their images; directions that
    are (numerically) combinations of others, or zero, are dropped."""
    from scipy.linalg import eigh

    gram = start.vectors @ start.vectors.T
    weights, rotation = eigh(gram)
    keep = weights > 1e-10 * max(weights[-1], np.finfo(float).tiny)
    S = rotation[:, keep] / np.sqrt(weights[keep])
    return S.T @ start.vectors, S.T @ start.images


def _symmetric(M: np.ndarray) -> np.ndarray:
    return (M + M.T) / 2


@dataclass(frozen=True)
class TraceEstimate:
    value: float
    standard_error: float
    samples: np.ndarray  # z^T H z, one per probe


def exact_trace(op: HessianOperator) -> TraceEstimate | None:
    """tr(H) without probes where it is cheap and exact: relu or identity hidden units (the
    Hessian's diagonal is the Gauss-Newton matrix's there); None otherwise."""
    if op.net.activation not in PIECEWISE_LINEAR:
        return None
    return TraceEstimate(piecewise_linear_trace(op.net, op.X, op.y, op.flat), 0.0,
                         np.empty(0))


def hutchinson_trace(op: HessianOperator, probes: int, seed: int = 0) -> TraceEstimate:
    """tr(H) ~ mean of z^T H z over Rademacher probes z, with its standard error."""
    rng = np.random.default_rng(seed)
    samples = []
    for start in range(0, probes, op.block):
        Z = rng.integers(0, 2, size=(op.size, min(op.block, probes - start))) * 2.0 - 1.0
        samples.append(np.sum(Z * op.matmat(Z), axis=0))
    values = np.concatenate(samples)
    error = float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else np.inf
    return TraceEstimate(float(np.mean(values)), error, values)


@dataclass(frozen=True)
class Quadrature:
    """Stochastic Lanczos quadrature: per probe, Gauss nodes (Ritz values) and weights.

    The density is approximately the mean over probes of sum_i weight_i delta(x - node_i);
    mean over probes of sum_i weight_i node_i^k estimates tr(H^k) / P (exactly v^T H^k v /
    |v|^2 for each probe v, for k < 2 x its Lanczos steps).
    """

    probe: np.ndarray  # (m,) which probe each node belongs to
    nodes: np.ndarray  # (m,)
    weights: np.ndarray  # (m,), summing to 1 per probe
    n_probes: int

    def moment(self, k: int) -> float:
        return float(np.sum(self.weights * self.nodes**k) / self.n_probes)

    def negative_share(self, tolerance: float = 0.0) -> float:
        """Estimated share of the eigenvalues below -tolerance."""
        return float(np.sum(self.weights[self.nodes < -tolerance]) / self.n_probes)

    def density(self, grid: np.ndarray, sigma: float) -> np.ndarray:
        """The spectrum smoothed by a Gaussian of width sigma, on `grid`."""
        grid = np.asarray(grid, dtype=np.float64)
        kernel = np.exp(-0.5 * ((grid[:, None] - self.nodes[None, :]) / sigma) ** 2)
        return kernel @ self.weights / (self.n_probes * sigma * np.sqrt(2 * np.pi))


def lanczos(op: HessianOperator, starts: np.ndarray, steps: int, images: bool = False):
    """Lanczos with full reorthogonalisation from each column of `starts` (P, m), batched.

    Returns the tridiagonal matrices' diagonals (m, steps) and off-diagonals (m, steps - 1),
    and each probe's length: a probe stops early when its Krylov space is invariant. With
    `images`, also the Subspace of every Lanczos vector and H applied to it.
    """
    P, m = starts.shape
    steps = min(int(steps), P)
    basis = np.zeros((m, steps, P))
    applied = np.zeros((m, steps, P)) if images else None
    alpha, beta = np.zeros((m, steps)), np.zeros((m, max(steps - 1, 0)))
    lengths = np.full(m, steps)
    q = (starts / np.linalg.norm(starts, axis=0)).T  # (m, P)
    active = np.ones(m, dtype=bool)
    for j in range(steps):
        basis[:, j] = q
        w = op.matmat(q[active].T).T
        full = np.zeros((m, P))
        full[active] = w
        if images:
            applied[active, j] = w
        alpha[:, j] = np.sum(full * q, axis=1)
        for _ in range(2):  # classical Gram-Schmidt twice: orthogonal to rounding
            coefficients = np.einsum("mjp,mp->mj", basis[:, : j + 1], full)
            full -= np.einsum("mj,mjp->mp", coefficients, basis[:, : j + 1])
        if j == steps - 1:
            break
        norm = np.linalg.norm(full, axis=1)
        scale = np.maximum(np.abs(alpha[:, : j + 1]).max(axis=1), np.finfo(float).tiny)
        ended = active & (norm <= 1e-10 * scale)
        lengths[ended] = j + 1
        active &= ~ended
        beta[active, j] = norm[active]
        q = np.zeros((m, P))
        q[active] = full[active] / norm[active, None]
        if not active.any():
            break
    if images:
        return alpha, beta, lengths, Subspace(basis.reshape(-1, P), applied.reshape(-1, P))
    return alpha, beta, lengths


def stochastic_lanczos_quadrature(op: HessianOperator, probes: int, steps: int,
                                  seed: int = 0, subspace: bool = False):
    """SLQ (Golub & Meurant; Ubaru et al. 2017) from `probes` Rademacher starts; with
    `subspace`, (Quadrature, Subspace): the Lanczos vectors and their images, for
    bottom_eigenpairs."""
    from scipy.linalg import eigh_tridiagonal

    rng = np.random.default_rng(seed)
    starts = rng.integers(0, 2, size=(op.size, probes)) * 2.0 - 1.0
    alpha, beta, lengths, *krylov = lanczos(op, starts, steps, images=subspace)
    probe_of, nodes, weights = [], [], []
    for k in range(probes):
        n = int(lengths[k])
        if n == 1:
            theta, vectors = alpha[k, :1], np.ones((1, 1))
        else:
            theta, vectors = eigh_tridiagonal(alpha[k, :n], beta[k, : n - 1])
        nodes.append(theta)
        weights.append(vectors[0] ** 2)
        probe_of.append(np.full(n, k))
    quadrature = Quadrature(np.concatenate(probe_of), np.concatenate(nodes),
                            np.concatenate(weights), probes)
    return (quadrature, krylov[0]) if subspace else quadrature


def exact_quadrature(eigenvalues: np.ndarray) -> Quadrature:
    """The exact spectrum in Quadrature form: every eigenvalue with weight 1/P, one 'probe'."""
    values = np.asarray(eigenvalues, dtype=np.float64)
    return Quadrature(np.zeros(len(values), dtype=np.int64), values,
                      np.full(len(values), 1.0 / len(values)), 1)
