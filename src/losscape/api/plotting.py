"""The grid kinds' figures from a table and its metadata: titles in words, then the drawing
of losscape.figures.landscapes. Used by the pipeline's figure stage and by Result.plot()."""

from __future__ import annotations

from losscape.figures import landscapes as landscapes_plots
from losscape.figures.drawing import samples_description
from losscape.model.network import n_parameters


def grid_landscape_figure(table, metadata: dict, data, name: str):
    """A weights landscape (contours and surface) or an input landscape (with the data).

    `data` is the dataset's frame (x0, x1, …, y); only an input landscape draws it.
    """
    spec, network = metadata["landscape"], metadata["network"]["name"]
    if spec["kind"] == "input":
        # Say what the error is measured against: a user's data has no generating function.
        target = metadata.get("target", "the generating function")
        title = (
            f"{name}: squared error of {network} over its input (x0, x1); "
            f"weights fixed at their trained values; target = {target}"
        )
        return landscapes_plots.input_landscape_figure(table, data, title=title)
    axes = tuple(spec["axes"])
    n_others = n_parameters(metadata["network"]["layer_sizes"]) - 2
    title = (
        f"{name}: MSE of {network} on {samples_description(metadata)} over {axes[0]} and "
        f"{axes[1]} (±{spec['span']:g}); the other {n_others} weights held at their trained "
        f"values"
    )
    return landscapes_plots.weights_landscape_figure(table, axes=axes, centre=metadata["centre"],
                                                     title=title)
