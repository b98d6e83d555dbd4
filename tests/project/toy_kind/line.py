"""`line`, a toy kind: the loss along one filter-normalised random direction d through the
trained weights, theta + t d for t in [-span, span]. docs/architecture.md adds it as its
walk-through of adding a kind, and tests/project/test_adding_a_kind.py does so on a copy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sklandscape.api.grids import landscape_metadata
from sklandscape.api.inputs import alpha_of, inputs_of, model_label, running, scored
from sklandscape.api.result import Result
from sklandscape.directions.planes import random_plane
from sklandscape.engine.landscape import parameter_measures, select_samples
from sklandscape.options import check_n_jobs, check_options
from sklandscape.progress import ProgressLog


def line(model, X, y, *, resolution: int = 21, span: float = 1.0, random_state: int = 0,
         samples="all", objective: str = "default", name: str = "line",
         network: str | None = None, n_jobs: int | None = None,
         progress: bool = True) -> Result:
    """The loss at theta + t d, t in [-span, span], d a filter-normalised random direction.

    Parameters
    ----------
    model, X, y, samples, objective, name, network, n_jobs, progress
        As for ``sl.random_plane``.
    resolution : int, default 21
        Points along the line.
    span : float, default 1.0
        How far the line goes each way, in units of d.
    random_state : int, default 0
        The seed of d.

    Returns
    -------
    Result
        ``.frame``: t, loss.

    Examples
    --------
    >>> import numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPRegressor
    >>> X = np.linspace(-3, 3, 40)[:, None]; y = np.sin(X).ravel()
    >>> model = MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", random_state=0).fit(X, y)
    >>> sl.line(model, X, y, resolution=3, progress=False).frame["t"].tolist()
    [-1.0, 0.0, 1.0]
    """
    check_options("line", resolution=resolution, span=span, random_state=random_state)
    check_n_jobs(n_jobs)
    net, X, y = inputs_of(model, X, y)
    net = scored(net, objective, alpha_of(model))
    spec = {"kind": "line", "network": model_label(model, network), "objective": objective,
            "random_state": random_state, "resolution": resolution, "samples": samples,
            "span": span}
    with running(progress):
        return line_result(net, X, y, spec, name, n_jobs=n_jobs)


def line_result(net, X, y, spec: dict, name: str, *, heldout=None, samples=None,
                n_jobs=None, **provenance) -> Result:
    """What the pipeline's job calls (the registry entry's `result`)."""
    if samples is None:
        samples = select_samples(len(y), spec["samples"])
    X, y = X[samples], y[samples]
    d, _ = random_plane(net, spec["random_state"])
    t = np.linspace(-spec["span"], spec["span"], spec["resolution"])
    found = parameter_measures(net, X, y, net.flat + t[:, None] * d,
                               ProgressLog(f"line {name}"), n_jobs)
    table = pd.DataFrame({"t": t, **found})
    metadata = landscape_metadata(spec, net, samples, **provenance)
    metrics = {"loss_min": float(np.min(found["loss"])), "loss_max": float(np.max(found["loss"]))}

    def figure():
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(t, found["loss"])
        ax.set(xlabel="t (along d)", ylabel="loss", title=f"{name}: loss along theta + t d")
        return fig

    return Result("line", name, {"landscape": table}, {"landscape": metadata}, metrics,
                  figures={"line": figure})
