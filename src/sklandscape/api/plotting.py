"""The grid kinds' figures from a table and its metadata: titles in words, then the drawing
of sklandscape.figures.landscapes. Used by the pipeline's figure stage and by Result.plot()."""

from __future__ import annotations

from sklandscape.figures import landscapes as landscapes_plots
from sklandscape.figures.drawing import grid_of, loss_of, samples_description
from sklandscape.figures.heldout import train_heldout_figure
from sklandscape.model.network import n_parameters


def grid_landscape_figure(table, metadata: dict, data, name: str):
    """A weights landscape (contours and surface) or an input landscape (with the data).

    `data` is the dataset's frame (x0, x1, …, y); only an input landscape draws it.
    """
    spec, network = metadata["landscape"], metadata["network"]["name"]
    if spec["kind"] == "input_space":
        plane = metadata.get("plane", {"columns": ["x0", "x1"], "names": ["x0", "x1"],
                                       "features": [0, 1], "reference": []})
        axes, labels = tuple(plane["columns"]), tuple(plane["names"])
        held = ""
        if len(plane["reference"]) > 2:
            how = spec.get("reference", "median")
            held = (f"; the other {len(plane['reference']) - 2} features held at "
                    f"{'their median' if how == 'median' else f'data row {how}'}")
        # Say what the error is measured against: a user's data has no generating function.
        target = metadata.get("target", "the generating function")
        outputs = metadata["network"]["layer_sizes"][-1]
        what = "log-loss and predicted class" if metadata["network"].get("loss") == "log-loss" \
            else "squared error" if outputs == 1 else f"squared error (mean of {outputs} outputs)"
        title = (
            f"{name}: {what} of {network} over {labels[0]} and {labels[1]}; weights fixed at "
            f"their trained values; target = {target}{held}"
        )
        if metadata["network"].get("loss") == "log-loss":
            classes = metadata["network"].get("classes") or list(
                range(int(table["target"].max()) + 1))
            return landscapes_plots.decision_figure(table, data, title=title, classes=classes,
                                                    axes=axes, labels=labels)
        return landscapes_plots.input_landscape_figure(table, data, title=title, axes=axes,
                                                       labels=labels)
    axes = tuple(spec["axes"])
    n_others = n_parameters(metadata["network"]["layer_sizes"]) - 2
    if "loss_heldout" in table.columns:
        first, second, train = grid_of(table, axes[0], axes[1], "loss")
        _, _, heldout = grid_of(table, axes[0], axes[1], "loss_heldout")
        centre = (metadata["centre"][axes[0]], metadata["centre"][axes[1]])
        title = (f"{name}: {loss_of(metadata)} of {network} on its training rows and on the "
                 f"rows it held out, over {axes[0]} and {axes[1]} (±{spec['span']:g}); the other "
                 f"{n_others} weights held at their trained values")
        return train_heldout_figure(first, second, train, heldout, centre, axes, title=title,
                                    n_train=metadata["n_samples"],
                                    n_heldout=metadata["heldout"]["n_samples"],
                                    loss_name=loss_of(metadata))
    title = (
        f"{name}: {loss_of(metadata)} of {network} on {samples_description(metadata)} over {axes[0]} and "
        f"{axes[1]} (±{spec['span']:g}); the other {n_others} weights held at their trained "
        f"values"
    )
    return landscapes_plots.weights_landscape_figure(table, axes=axes, centre=metadata["centre"],
                                                     title=title, loss_name=loss_of(metadata))
