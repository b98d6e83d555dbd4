"""The training stage: fit a network, write its model, its weights and (on request) its path."""

from __future__ import annotations

import logging

from sklandscape import io
from sklandscape.data.datasets import (
    holdout_split,
    split_xy,
)
from sklandscape.model.network import Network, saturated_share
from sklandscape.model.training import fit_mlp, scores
from sklandscape.progress import ProgressLog

log = logging.getLogger("sklandscape")

def train(data_path, settings: dict, *, model, weights, initial_weights=None, trajectory=None):
    """Fit, then write the model (skops) and its weights table. Returns the FitResult.

    Given the two extra paths, the same fit also records its path: the initial weights
    (same format as the weights table) and the weights after every iteration.
    """
    frame, _ = io.read_table(data_path)
    X, y = split_xy(frame)
    record = initial_weights is not None or trajectory is not None
    split = training_split(y, settings)
    train_rows = split["train"] if split else slice(None)
    progress = ProgressLog(f"training ({settings.get('solver', 'adam')})", chunks=False,
                           unit="iterations of max_iter (it may converge sooner)")
    result = fit_mlp(X[train_rows], y[train_rows], settings, record=record, progress=progress)
    for message in result.warnings:
        log.warning("ConvergenceWarning: %s", message)
    if split:
        heldout = split["heldout"]
        result.scores |= {f"heldout_{k}": v
                          for k, v in scores(result.model, X[heldout], y[heldout]).items()}
        log.info("held out %d of %d rows (seed %d): %s", len(heldout), len(y), split["seed"],
                 result.summary())
    net = Network.from_estimator(result.model)
    saturated = saturated_share(net, X[train_rows])
    result.scores["saturated_share"] = saturated
    if saturated > SATURATION_WARNING:
        result.saturation = (
            f"{saturated:.0%} of the hidden units' pre-activations on the training data are "
            f"saturated ({net.activation}): its landscapes will be flat along most weights; "
            "scale the inputs (scaling: standard) or the target")
        log.warning("saturation: %s", result.saturation)
    io.write_model(result.model, model)
    io.write_weights(net, weights, {"training": settings, **({"split": split} if split else {})})
    if record:
        path = result.trajectory
        initial = net.with_flat(path.initial)
        if initial_weights is not None:
            io.write_weights(initial, initial_weights, {"training": settings})
        if trajectory is not None:
            io.write_trajectory(net, path.states, trajectory, {
                "training": settings, "solver": result.mlp.solver,
                "ends_at_fitted_weights": path.ends_at_fitted_weights})
        log.info("recorded %d states from the initial weights to the fitted ones "
                 "(ends at the fitted weights: %s)", len(path.states), path.ends_at_fitted_weights)
    log.info("trained %s in %d iterations: %s, converged=%s",
             list(net.layer_sizes), result.n_iter, result.summary(), result.converged)
    return result


# Above this share of saturated hidden pre-activations a trained network gets a warning.
SATURATION_WARNING = 0.9


def training_split(y, settings: dict) -> dict | None:
    """The rows a network trains on and those it holds out (`holdout`: a seeded share,
    stratified by class for a classifier); None without a held-out share."""
    share = settings.get("holdout")
    if not share:
        return None
    seed = int(settings.get("holdout_seed", 0))
    labels = y if settings.get("estimator") == "classifier" else None
    train, heldout = holdout_split(len(y), float(share), seed, labels)
    return {"share": float(share), "seed": seed, "train": train.tolist(),
            "heldout": heldout.tolist()}
