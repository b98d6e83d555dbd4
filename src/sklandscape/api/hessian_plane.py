"""The hessian_plane landscape kind: the loss over the plane of two of the Hessian's own
eigenvectors at the trained weights (the top two, or the top and the bottom), as
loss-landscape-3d and the maintained loss-landscapes fork draw it.

The eigenvectors come from Lanczos on exact Hessian-vector products
(sklandscape.analyses.spectrum), so the kind works at any size; they have unit length, so a and
b are distances in weight space, and along each axis the loss starts as lambda t^2 / 2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sklandscape.analyses.spectrum import HessianOperator, extreme_eigenpairs
from sklandscape.api.directions import (
    _finite,
    _flat_columns,
    _heldout_meta,
    _rows,
    _title_prefix,
    _with_heldout,
)
from sklandscape.api.grids import landscape_metadata
from sklandscape.api.inputs import (
    alpha_of,
    heldout_of,
    inputs_of,
    model_label,
    running,
    scored,
)
from sklandscape.api.result import Result
from sklandscape.api.topology import DEFAULT_THRESHOLD, add_topology, check_threshold
from sklandscape.engine.landscape import axis_values, plane_grid, plane_measures
from sklandscape.figures import planes as planes_plots
from sklandscape.figures.drawing import loss_of
from sklandscape.figures.heldout import train_heldout_figure
from sklandscape.model.network import Network
from sklandscape.options import check_n_jobs, check_options
from sklandscape.progress import ProgressLog, part_of

DIRECTIONS = ("top_two", "top_bottom")


def eigen_directions(net: Network, X, y, which: str, seed: int = 0, max_products: int = 1000,
                     n_jobs=None):
    """Two unit eigenvectors of the Hessian at the trained weights and their eigenvalues:
    the largest two ("top_two", largest first) or the largest and the smallest
    ("top_bottom")."""
    if which not in DIRECTIONS:
        raise ValueError(f"directions {which!r}: expected one of {list(DIRECTIONS)}")
    if len(net.flat) < 3:
        raise ValueError("a Hessian plane needs a network of at least 3 weights")
    op = HessianOperator(net, X, y, n_jobs=n_jobs)
    top = extreme_eigenpairs(op, 2 if which == "top_two" else 1, "LA", seed)
    if which == "top_two":
        return (top.vectors[:, 1], top.vectors[:, 0]), (float(top.values[1]),
                                                        float(top.values[0])), op.products
    bottom = extreme_eigenpairs(op, 1, "SA", seed + 1, max_products)
    if not len(bottom.values):
        raise ValueError(f"the smallest eigenvalue did not converge within {max_products} "
                         "Hessian-vector products (bottom_max_products): raise it, or use "
                         "directions: top_two")
    return (top.vectors[:, 0], bottom.vectors[:, 0]), (float(top.values[0]),
                                                       float(bottom.values[0])), op.products


def hessian_plane_result(net: Network, X, y, spec: dict, name: str, heldout=None, samples=None,
                         n_jobs: int | None = None, **provenance) -> Result:
    """Loss over theta + a v1 + b v2 for two unit Hessian eigenvectors (v1, v2).

    Tables: the grid (a, b, loss; accuracy for a classifier; held-out columns) and the
    directions (name, d1, d2); figure: the plane, contours and surface.
    """
    X, y, samples = _rows(X, y, spec, samples)
    which = spec.get("directions", "top_two")
    (d1, d2), eigenvalues, products = eigen_directions(
        net, X, y, which, int(spec["random_state"]), int(spec.get("bottom_max_products", 1000)),
        n_jobs)
    values = axis_values(0.0, spec["span"], spec["resolution"])
    grid = plane_grid(values, values)
    progress = ProgressLog(f"hessian_plane {name}")
    total = grid.size * (2 if heldout is not None else 1)  # cells: training, held out
    found = plane_measures(net, X, y, grid, net.flat, (d1, d2), part_of(progress, 0, total),
                           n_jobs=n_jobs)
    loss_centre = net.loss(X, y)
    points = grid.points()
    table = pd.DataFrame({"a": points[:, 0], "b": points[:, 1], **_flat_columns(found)})
    held = None
    if heldout is not None:
        held = plane_measures(net, *heldout, grid, net.flat, (d1, d2),
                              part_of(progress, grid.size, total), n_jobs=n_jobs)
        table = table.assign(**_flat_columns(held, "_heldout"))
    metadata = landscape_metadata(spec, net, samples, **provenance)
    metadata["centre"] = {"a": 0.0, "b": 0.0, "loss": loss_centre}
    metadata["eigenvalues"] = {"d1": eigenvalues[0], "d2": eigenvalues[1]}
    metadata["hessian_products"] = products
    _heldout_meta(metadata, net, heldout)
    roles = ("largest", "second largest") if which == "top_two" else ("largest", "smallest")
    labels = tuple(f"eigenvector v{k + 1}, the {role}: λ = {value:.4g}"
                   for k, (role, value) in enumerate(zip(roles, eigenvalues)))
    what = (f"{_title_prefix(metadata, name)} over theta + a·v1 + b·v2: theta = trained "
            f"weights, v1, v2 = unit eigenvectors of the Hessian there, λ1 = "
            f"{eigenvalues[0]:.4g} ({roles[0]}), λ2 = {eigenvalues[1]:.4g} ({roles[1]})")
    loss = found["loss"]
    metrics = {"loss_centre": loss_centre, "loss_min": float(np.nanmin(loss)),
               "loss_max": float(np.nanmax(loss)), "eigenvalue_d1": eigenvalues[0],
               "eigenvalue_d2": eigenvalues[1], "hessian_products": float(products)}
    return Result(
        "hessian_plane", name,
        {"landscape": table, "directions": pd.DataFrame({"name": net.names, "d1": d1, "d2": d2})},
        {"landscape": metadata, "directions": metadata},
        _finite(_with_heldout(metrics, table, metadata)),
        figures={"plane": lambda: planes_plots.random_plane_figure(
            grid.first, grid.second, loss, loss_centre, title=what, directions=labels,
            loss_name=loss_of(metadata))
            if held is None else train_heldout_figure(
                grid.first, grid.second, loss, held["loss"], (0.0, 0.0),
                ("a (along v1)", "b (along v2)"), n_train=len(y), n_heldout=len(heldout[1]),
                title=f"{what}: training and held-out {loss_of(metadata)}",
                loss_name=loss_of(metadata))},
    )


def hessian_plane(model, X, y, *, directions: str = "top_two", span: float = 1.0,
                  resolution: int = 31, random_state: int = 0, bottom_max_products: int = 1000,
                  samples="all", heldout=None, objective: str = "default",
                  topology: bool = True, topology_threshold: float = DEFAULT_THRESHOLD,
                  name: str = "hessian_plane", network: str | None = None,
                  n_jobs: int | None = None, progress: bool = True) -> Result:
    """The loss over theta + a·v1 + b·v2 for two unit eigenvectors of the Hessian at the
    trained weights: the largest two (``directions="top_two"``) or the largest and the
    smallest (``"top_bottom"``); a and b run over [-span, span] (weight-space distance).

    The eigenvectors come from Lanczos on exact Hessian-vector products, at any network size.

    Parameters
    ----------
    model, X, y
        As for ``weights``.
    directions : "top_two" or "top_bottom", default "top_two"
        The two eigenvectors.
    span : float, default 1.0
        a and b run over [-span, span], in weight-space distance (the vectors are unit).
    resolution : int, default 31
        Grid points per axis.
    random_state : int, default 0
        Seed of the Lanczos start (an int, so that the tables are the same bits every run).
    bottom_max_products : int, default 1000
        Hessian-vector products the smallest eigenvector may take ("top_bottom").
    samples, heldout, objective, topology, topology_threshold, name, network
        As for ``weights``.
    n_jobs : int, optional
        Worker processes over the plane's points, as for ``random_plane``; threads share
        each Hessian-vector product's rows. The same tables for every n_jobs.
    progress : bool, default True
        A progress bar over the points.

    Returns
    -------
    Result
        Tables ``"landscape"`` (a, b, loss), ``"directions"`` (name, d1, d2) and
        ``"topology"``; the eigenvalues in ``metadata["eigenvalues"]`` and the figure
        ``"plane"``.

    Raises
    ------
    OptionError, NotFittedError, TypeError, ValueError
        As for ``weights``: a refused option (named, before any work), an unfitted model, a
        model that is not an MLP (a search: pass its ``best_estimator_``), data that does not
        fit it.
        Also a ValueError for a network of fewer than 3 weights.

    Examples
    --------
    >>> import numpy as np, sklandscape as sl
    >>> from sklearn.neural_network import MLPRegressor
    >>> X = np.linspace(-3, 3, 60)[:, None]; y = np.sin(X).ravel()
    >>> model = MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", solver="lbfgs",
    ...                      max_iter=2000, random_state=0).fit(X, y)
    >>> result = sl.hessian_plane(model, X, y, span=0.1, resolution=5, progress=False)
    >>> values = result.metadata["eigenvalues"]
    >>> bool(values["d1"] >= values["d2"] > 0)  # the two largest, largest first
    True
    """
    check_n_jobs(n_jobs)
    check_options("hessian_plane", resolution=resolution, span=span, directions=directions,
                  bottom_max_products=bottom_max_products, random_state=random_state)
    net, X, y = inputs_of(model, X, y)
    net = scored(net, objective, alpha_of(model))
    spec = {"network": model_label(model, network), "kind": "hessian_plane",
            "objective": objective, "directions": directions, "span": span,
            "resolution": resolution, "random_state": random_state, "bottom_max_products": bottom_max_products,
            "samples": samples, "topology_threshold": check_threshold(topology_threshold)}
    with running(progress):
        result = hessian_plane_result(net, X, y, spec, name, heldout_of(model, heldout),
                                      n_jobs=n_jobs)
    return add_topology(result, spec["topology_threshold"]) if topology else result
