"""The optimisation path of a real `MLPRegressor.fit`: its initial weights and its weights
after every iteration, recorded from inside that fit.

Why not replay the fit instead:
- lbfgs: `warm_start` with `max_iter=1` in a loop restarts L-BFGS's curvature memory at every
  call, so it walks a different path. We pass scipy's own per-iteration `callback` to the one
  `scipy.optimize.minimize` call that sklearn makes (sklearn passes none), so every accepted
  L-BFGS-B iterate is seen, line-search trial points are not.
- sgd/adam: a `partial_fit` loop re-seeds the shuffling at every call (an integer
  `random_state` is turned into a fresh RandomState each time), restarts from unshuffled
  indices and skips fit's stopping rule, so its path leaves fit's after the first epoch
  (measured on N1-sized adam: 0.37 apart after 300 epochs). We copy the weights at the end of
  every epoch, at the point where sklearn checks for improvement.

Both hooks touch private sklearn names; the recorder checks that the path ends at the fitted
weights bit for bit and says so (`ends_at_fitted_weights`), and the tests check every recorded
state against a fresh `fit(max_iter=k)`.

A Pipeline whose last step is the MLP is fitted as `pipeline.fit` fits it (its transformers
first, then the MLP on their output), with the hooks on the MLP step. With `early_stopping`,
sklearn holds out `validation_fraction` of the rows (`train_test_split` with the model's own
random state) and at the end restores the weights of the epoch with the best validation
score; the recorder notes which rows were held out (by wrapping that one call, which draws the
same split) and keeps the path up to the restored epoch, so that it ends at the fitted weights.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from unittest import mock

import numpy as np

log = logging.getLogger("sklandscape")


@dataclass(frozen=True)
class Trajectory:
    """Weights along one fit: row 0 the initial weights, row k those after iteration k."""

    states: np.ndarray  # (n_iterations + 1, n_parameters), Network's flat order
    ends_at_fitted_weights: bool
    # early_stopping: the rows (indices into the X given to fit) sklearn held out, and the
    # epochs it ran (the path stops earlier, at the best epoch, whose weights it restored)
    validation_rows: np.ndarray | None = None
    epochs_run: int | None = None

    @property
    def initial(self) -> np.ndarray:
        return self.states[0]

    @property
    def final(self) -> np.ndarray:
        return self.states[-1]

    @property
    def iterations(self) -> np.ndarray:
        return np.arange(len(self.states), dtype=np.int64)


def estimator_flat(model) -> np.ndarray:
    """A fitted (or initialised) model's weights in Network's flat order (a copy)."""
    parts = []
    for coef, intercept in zip(model.coefs_, model.intercepts_):
        parts += [np.ravel(coef), np.ravel(intercept)]
    return np.concatenate(parts).astype(np.float64, copy=True)


def mlp_of(model):
    """The MLP that `model.fit` trains: the model itself, or a Pipeline's last step."""
    mlp = model.steps[-1][1] if hasattr(model, "steps") else model
    if not hasattr(mlp, "_initialize") or not hasattr(mlp, "hidden_layer_sizes"):
        raise TypeError(f"expected an MLPRegressor or MLPClassifier, or a Pipeline ending in "
                        f"one, got {type(model).__name__}"
                        + (f" ending in {type(mlp).__name__}" if mlp is not model else ""))
    return mlp


def record_fit(model, X: np.ndarray, y: np.ndarray, progress=None, keep: bool = True
               ) -> Trajectory | None:
    """Fit `model` (an MLP, or a Pipeline ending in one) on (X, y) exactly as `model.fit`
    would, recording every iterate of the MLP.

    progress(iteration) is called after each one. keep=False records nothing (returns None):
    the hooks then only report progress.
    """
    mlp = mlp_of(model)
    if keep and getattr(mlp, "warm_start", False):
        raise ValueError("warm_start=True continues from the weights the model already has, so "
                         "the recorded path would not start at its initial weights; set "
                         "warm_start=False")
    states, split = _States(keep, progress), {}
    with _recording_hooks(mlp, states, split):
        model.fit(X, y)
    if not keep:
        return None
    fitted = estimator_flat(mlp)
    epochs_run = None
    if split:  # early stopping restored the best epoch's weights: the path ends there
        epochs_run = len(states) - 1
        best = 1 + int(np.argmax(mlp.validation_scores_))  # sklearn keeps the first best
        del states[best + 1:]
    ends = bool(states) and np.array_equal(states[-1], fitted)
    if not ends:
        log.warning("the recorded path does not end at the fitted weights; appending them")
        states.append(fitted)
    return Trajectory(np.stack(states), ends, split.get("validation"), epochs_run)


class _States(list):
    """The recorded states; or, with keep=False, only their count for progress."""

    def __init__(self, keep: bool, progress=None):
        super().__init__()
        self.keep, self.progress, self.count = keep, progress, 0

    def append(self, state) -> None:
        if self.keep:
            super().append(state)
        if self.progress is not None and self.count:  # state 0 is the initial weights
            self.progress(self.count)
        self.count += 1


@contextmanager
def _recording_hooks(model, states: list, split: dict):
    import sklearn.neural_network._multilayer_perceptron as mlp

    shadowed = []

    def shadow(name, wrapper):
        # An instance attribute shadows the method for this one model only.
        setattr(model, name, wrapper)
        shadowed.append(name)

    original_initialize = model._initialize

    def initialize(*args, **kwargs):
        original_initialize(*args, **kwargs)
        states.append(estimator_flat(model))

    shadow("_initialize", initialize)
    with ExitStack() as stack:
        if model.solver == "lbfgs":
            stack.enter_context(mock.patch.object(
                mlp.scipy.optimize, "minimize", _minimize_recording(mlp, model, states)))
        else:
            original_update = model._update_no_improvement_count

            def end_of_epoch(*args, **kwargs):
                states.append(estimator_flat(model))
                return original_update(*args, **kwargs)

            shadow("_update_no_improvement_count", end_of_epoch)
            if model.early_stopping:
                stack.enter_context(mock.patch.object(
                    mlp, "train_test_split", _split_recording(mlp.train_test_split, split)))
        try:
            yield
        finally:
            # The fitted model must carry no hooks: it is serialised afterwards.
            for name in shadowed:
                delattr(model, name)


def _split_recording(real_split, split: dict):
    """sklearn's validation split, drawing the same rows, with their indices noted: the split
    depends on the number of rows, the random state and the stratification only, so one more
    array to split changes nothing."""

    def train_test_split(*arrays, **options):
        *parts, _, validation = real_split(*arrays, np.arange(len(arrays[0])), **options)
        split["validation"] = validation
        return parts

    return train_test_split


def _minimize_recording(mlp, model, states: list):
    real_minimize = mlp.scipy.optimize.minimize

    def minimize(*args, **kwargs):
        if kwargs.get("callback") is not None:
            raise RuntimeError("sklearn now passes its own callback to minimize; recording "
                               "would replace it")
        order = _packed_to_flat(mlp, model)

        def callback(intermediate_result):
            states.append(np.asarray(intermediate_result.x, dtype=np.float64)[order].copy())

        return real_minimize(*args, callback=callback, **kwargs)

    return minimize


def _packed_to_flat(mlp, model) -> np.ndarray:
    """Index array `order` with flat = packed[order], using sklearn's own `_pack` layout."""
    coef_positions, intercept_positions, start = [], [], 0
    for coef, intercept in zip(model.coefs_, model.intercepts_):
        coef_positions.append(np.arange(start, start + coef.size).reshape(coef.shape))
        start += coef.size
        intercept_positions.append(np.arange(start, start + intercept.size))
        start += intercept.size
    # packed[k] holds flat element flat_of_packed[k]; invert the permutation.
    flat_of_packed = mlp._pack(coef_positions, intercept_positions).astype(np.int64)
    order = np.empty_like(flat_of_packed)
    order[flat_of_packed] = np.arange(flat_of_packed.size)
    return order
