"""A sentence or two per job for its MLflow run's description (what it is, what it holds
fixed), from its rule, wildcards and params: what a user sees first in the run's page."""

from __future__ import annotations

from sklandscape.kinds import KINDS


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
    spec = params.get("spec", {})
    kind = KINDS.get(spec.get("kind", rule))
    if kind is not None and kind.family == "landscape":  # its own rule, or landscape[_tile]
        held = kind.summary.format(axes=_fmt(spec.get("axes", [])), span=spec.get("span"))
        part = " (one tile of its rows)" if rule == "landscape_tile" else ""
        return (f"Loss landscape **{wildcards.get('landscape')}**{part} of network "
                f"{spec.get('network')}, kind {kind.name}: {held}; resolution "
                f"{spec.get('resolution')}, samples {_fmt(spec.get('samples', 'all'))}.")
    if kind is not None:
        of = (f"network {spec.get('network')}" if kind.of == "network"
              else f"landscape {spec.get('landscape')}")
        return f"Analysis **{wildcards.get('analysis')}** of {of}: {kind.summary.format()}."
    return ""
