"""What the public functions accept: a fitted estimator or a Network, and X, y as arrays."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from losscape.model.network import Network


def network_of(model) -> Network:
    """A losscape Network from a fitted MLPRegressor (or a Network, returned as it is)."""
    if isinstance(model, Network):
        return model
    if not hasattr(model, "coefs_"):
        kind = type(model).__name__
        if hasattr(model, "hidden_layer_sizes"):
            raise ValueError(f"this {kind} is not fitted yet: call fit(X, y) first")
        raise TypeError(f"expected a fitted scikit-learn MLPRegressor or a losscape Network, "
                        f"not {kind}")
    if hasattr(model, "classes_"):
        raise NotImplementedError(
            f"{type(model).__name__}: classifiers are not supported yet; their landscapes need "
            "the log-loss of predict_proba (planned), not the MSE of a regressor")
    return Network.from_estimator(model)


def model_label(model, given: str | None) -> str:
    """The network's name in titles and metadata: the caller's, else the estimator's class."""
    if given:
        return given
    return "network" if isinstance(model, Network) else type(model).__name__


def arrays(net: Network, X, y) -> tuple[np.ndarray, np.ndarray]:
    """X as (n, n_inputs) and y as (n,) float64 arrays, checked against the network."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (samples x features), got shape {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one target per sample), got shape {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    if len(y) == 0:
        raise ValueError("X and y are empty")
    if X.shape[1] != net.layer_sizes[0]:
        raise ValueError(f"X has {X.shape[1]} features but the network takes "
                         f"{net.layer_sizes[0]} inputs")
    for what, values in (("X", X), ("y", y)):
        bad = np.argwhere(~np.isfinite(values))
        if len(bad):
            raise ValueError(f"{what} has a NaN or infinite value at {tuple(int(i) for i in bad[0])}")
    return X, y


@contextmanager
def single_threaded():
    """One BLAS thread: on the engine's small batched products, more threads only cost
    (measured: 2.2 s of CPU single-threaded against 15.8 s with the default threads)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield
