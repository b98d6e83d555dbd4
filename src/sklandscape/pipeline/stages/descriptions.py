"""A sentence or two per job for its MLflow run's description (what it is, what it holds
fixed), from its rule, wildcards and params: what a user sees first in the run's page."""

from __future__ import annotations


def _fmt(value) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def describe(rule: str, wildcards: dict, params: dict) -> str:
    """The run's description in Markdown; empty for a rule it does not know."""
    if rule == "data":
        return (f"Dataset **{wildcards.get('dataset')}**: its table (features and target), "
                "made or read once; every network trained on it reads this table.")
    if rule == "train":
        settings = params.get("settings", {})
        return (f"Trains network **{wildcards.get('network')}** "
                f"({settings.get('estimator', 'regressor')}, hidden "
                f"[{_fmt(settings.get('hidden_layer_sizes', []))}], "
                f"{settings.get('activation', 'relu')}, {settings.get('solver', 'adam')}) on "
                f"dataset {params.get('dataset')}; logs its model, weights, initial weights, "
                "training path and fit figure.")
    if rule in ("landscape", "landscape_tile", "landscape_gather", "weight_pairs",
                "random_plane", "hessian_plane", "interpolation", "trajectory_pca"):
        spec = params.get("spec", {})
        kind = spec.get("kind", rule)
        held = {
            "weights": f"over {_fmt(spec.get('axes', []))} ± {spec.get('span')}; every other "
                       "weight held at its trained value",
            "input": "over two inputs; the others at their reference values, the weights "
                     "trained",
            "weight_pairs": "over every listed pair of weights; in each, the others held",
            "random_plane": "over theta + a d1 + b d2, filter-normalised random directions",
            "hessian_plane": "over theta + a v1 + b v2, unit eigenvectors of the Hessian",
            "interpolation": "from the initial to the trained weights",
            "trajectory_pca": "on the PCA plane of the training path",
        }.get(kind, "")
        part = " (one tile of its rows)" if rule == "landscape_tile" else ""
        return (f"Loss landscape **{wildcards.get('landscape')}**{part} of network "
                f"{spec.get('network')}, kind {kind}: {held}; resolution "
                f"{spec.get('resolution')}, samples {_fmt(spec.get('samples', 'all'))}.")
    if rule in ("curvature", "optimizers", "input_attack"):
        spec = params.get("spec", {})
        what = {"curvature": "the Hessian at the trained weights (spectrum, trace, sharpness, "
                             "cuts) and the slice's convexity and plateau maps",
                "optimizers": "GD, heavy ball, Nesterov and Adam on the slice, each at its "
                              "best learning rate",
                "input_attack": "the worst data points and a gradient-ascent adversary on the "
                                "input plane"}[rule]
        return (f"Analysis **{wildcards.get('analysis')}** of landscape "
                f"{spec.get('landscape')}: {what}; the landscape's slice, grid and data rows "
                "held fixed.")
    return ""
