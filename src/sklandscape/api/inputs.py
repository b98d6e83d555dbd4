"""What the public functions accept: a fitted estimator or a Network, and X, y as arrays."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from sklandscape.model.network import Network


def network_of(model) -> Network:
    """A sklandscape Network from a fitted MLPRegressor or MLPClassifier, or a Pipeline ending
    in one (a Network is returned as it is)."""
    if isinstance(model, Network):
        return model
    steps = getattr(model, "steps", None)
    if steps is not None:  # a scikit-learn Pipeline: the MLP is its last step
        last = steps[-1][1]
        network_of(last)  # the same checks on the MLP itself
        return Network.from_estimator(model)
    kind = type(model).__name__
    if hasattr(model, "best_estimator_") or hasattr(model, "param_grid") \
            or hasattr(model, "param_distributions"):
        raise TypeError(f"{kind} is a search over estimators: pass the one it chose, "
                        f"{kind}.best_estimator_ (fitted when refit=True)")
    if not hasattr(model, "hidden_layer_sizes"):
        raise TypeError(f"expected a fitted MLPRegressor or MLPClassifier (or a Pipeline ending "
                        f"in one, or a sklandscape Network), got {kind}")
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "coefs_")  # NotFittedError, scikit-learn's own
    loss = getattr(model, "loss", "squared_error")
    if not hasattr(model, "classes_") and loss != "squared_error":
        raise ValueError(f"{kind}(loss={loss!r}) is not supported: sklandscape maps the "
                         "squared error (MLPRegressor's default loss) and a classifier's "
                         "log-loss")
    binarizer = getattr(model, "_label_binarizer", None)
    if getattr(binarizer, "y_type_", "") == "multilabel-indicator":
        raise ValueError(f"{type(model).__name__} was fitted on multilabel targets (one 0/1 "
                         "column per label); sklandscape maps binary and multiclass classifiers "
                         "only: fit one classifier per label")
    return Network.from_estimator(model)


def inputs_of(model, X, y) -> tuple[Network, np.ndarray, np.ndarray]:
    """The network, X as (n, n_inputs) float64 and y as (n,): floats for a regressor, class
    indices into the classifier's `classes_` for a classifier."""
    net = network_of(model)
    classes = getattr(model, "classes_", None)
    if classes is None and getattr(model, "steps", None):
        classes = getattr(model.steps[-1][1], "classes_", None)
    return (net, *arrays(net, X, y, classes))


def class_indices(y, classes, n_classes: int) -> np.ndarray:
    """Labels as indices into `classes` (a fitted classifier's classes_), as float64.

    Without `classes` (a bare Network), y must already be indices 0..n_classes-1.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per sample), got shape {y.shape}")
    if classes is None:
        classes = np.arange(n_classes)
    classes = np.asarray(classes)
    order = np.argsort(classes, kind="stable")
    position = np.searchsorted(classes[order], y)
    position = np.clip(position, 0, len(classes) - 1)
    known = classes[order][position] == y
    if not np.all(known):
        bad = y[~known][0]
        bad = bad.item() if hasattr(bad, "item") else bad
        raise ValueError(f"y holds the label {bad!r}, which the classifier does not know; its "
                         f"classes are {classes.tolist()}")
    return order[position].astype(np.float64)


def model_label(model, given: str | None) -> str:
    """The network's name in titles and metadata: the caller's, else the estimator's class."""
    if given:
        return given
    if isinstance(model, Network):
        return "network"
    steps = getattr(model, "steps", None)
    if steps:  # a Pipeline: "MLPClassifier after StandardScaler", not "Pipeline"
        before = ", ".join(type(step).__name__ for _, step in steps[:-1])
        return type(steps[-1][1]).__name__ + (f" after {before}" if before else "")
    return type(model).__name__


def arrays(net: Network, X, y, classes=None) -> tuple[np.ndarray, np.ndarray]:
    """X as (n, n_inputs) and y as (n,) float64 arrays, checked against the network; a
    classifier's labels become indices into `classes`."""
    X = np.asarray(X, dtype=np.float64)
    if net.is_classifier:
        y = class_indices(y, classes, net.n_classes)
    else:
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            first = y.flat[0].item() if hasattr(y.flat[0], "item") else y.flat[0]
            raise ValueError(f"y holds {first!r}, not a number: a regressor needs numeric "
                             "targets (for class labels, fit an MLPClassifier)")
        y = y.astype(np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (samples x features), got shape {X.shape}")
    y = targets_shaped(net, y)
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


def targets_shaped(net: Network, y: np.ndarray) -> np.ndarray:
    """y as the network scores it: (n,) for one output, (n, k) for a regressor of k outputs
    (scikit-learn's multi-output MLPRegressor, whose loss averages over rows and outputs)."""
    outputs = 1 if net.is_classifier else net.layer_sizes[-1]
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if outputs == 1 and y.ndim != 1:
        raise ValueError(f"y must be 1-D (one target per sample), got shape {y.shape}")
    if outputs > 1 and (y.ndim != 2 or y.shape[1] != outputs):
        raise ValueError(f"y must have one column per output of the network, (n_samples, "
                         f"{outputs}), got shape {y.shape}")
    return y


@contextmanager
def single_threaded():
    """One BLAS thread: on the engine's small batched products, more threads only cost
    (measured: 2.2 s of CPU single-threaded against 15.8 s with the default threads)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


@contextmanager
def running(progress: bool):
    """A public call's surroundings: one BLAS thread, and its progress shown as bars
    (sklandscape.progress.progress_bars) unless `progress` is False."""
    from sklandscape.errors import OptionError
    from sklandscape.progress import progress_bars

    if not isinstance(progress, (bool, np.bool_)):
        raise OptionError(f"progress: {progress!r} is not True or False")
    with single_threaded(), progress_bars(bool(progress)):
        yield


def scored(net: Network, objective: str | None, alpha: float) -> Network:
    """The network scored by `objective` ("default" or "sklearn", whose L2 penalty takes
    the network's training `alpha`)."""
    return net.with_objective(objective, alpha if objective == "sklearn" else 0.0)


def alpha_of(model) -> float:
    """The L2 penalty a fitted MLP (or a Network) was trained with."""
    mlp = model.steps[-1][1] if getattr(model, "steps", None) else model
    return float(getattr(mlp, "alpha", 0.0))


def heldout_of(model, heldout):
    """Held-out data (X, y) as the network scores it, or None."""
    if heldout is None:
        return None
    try:
        X, y = heldout
    except (TypeError, ValueError):
        raise ValueError("heldout must be a pair (X, y) of data the network did not train on") \
            from None
    return inputs_of(model, X, y)[1:]
