"""Analysis stages: curvature, optimizers on a slice, and the input-space attack. Files in,
files (tables and figures) out, a dict of metrics and tags back; the computing and drawing
is the public API's (sklandscape.api.analyses, sklandscape.api.optimizer_runs).

Each analysis works on an existing landscape file, whose table fixes the slice (the two
weights, the window, the grid, the data rows) or the input window.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sklandscape import io
from sklandscape.api.analyses import input_attack_result
from sklandscape.api.connectivity import TABLES as CONNECTIVITY_TABLES
from sklandscape.api.connectivity import connectivity as connectivity_result
from sklandscape.api.curvature import curvature_result
from sklandscape.api.inputs import network_of
from sklandscape.api.learning_rates import learning_rates as learning_rates_result
from sklandscape.api.optimizer_runs import optimizers_result
from sklandscape.pipeline.stages.landscapes import network_data
from sklandscape.pipeline.stages.pages import connectivity_page


def load_slice(weights_path, data_path, landscape_path, kind: str, with_heldout=False):
    """The network, the landscape's data rows, its table and metadata, of the given kind
    (and with_heldout: the network's held-out rows as (X, y), or None)."""
    table, metadata = io.read_table(landscape_path)
    spec = metadata.get("landscape", {})
    if spec.get("kind") != kind:
        raise ValueError(f"{landscape_path}: this analysis needs a landscape of kind {kind!r}, "
                         f"not {spec.get('kind')!r}")
    data = network_data(weights_path, data_path)
    rows = np.asarray(metadata["samples"], dtype=np.int64)
    found = data.net, data.X[rows], data.y[rows], table, metadata
    return (*found, data.heldout()) if with_heldout else found


def _write(result, tables: dict, figures: dict) -> None:
    for table, path in tables.items():
        result.to_parquet(path, table)
    for which, path in figures.items():
        if path is not None:
            result.save_figure(path, which)


def _name(name, first_output) -> str:
    # An analysis writes into results/analyses/{analysis}/: its folder is its name.
    return name or Path(first_output).parent.name


CURVATURE_TABLES = ("hessian", "hessian_matrix", "spectrum", "eigen_cuts", "curvature_map")


def curvature(weights_path, data_path, landscape_path, spec: dict, name=None, *, tables: dict,
              figures: dict | None = None, n_jobs=None):
    """The Hessian at the trained weights (its eigenpairs, matrix when exact, spectrum, cuts),
    sharpness, and the convexity and plateau maps on the landscape's slice.

    tables: a path for each of CURVATURE_TABLES; figures: a path for any of
    sklandscape.api.analysis_plots.CURVATURE_FIGURES.
    """
    missing = set(CURVATURE_TABLES) - set(tables)
    if missing:
        raise ValueError(f"curvature needs a path for the tables {sorted(missing)}")
    net, X, y, table, metadata, heldout = load_slice(weights_path, data_path, landscape_path,
                                                      "weights", with_heldout=True)
    result = curvature_result(net, X, y, table, metadata, spec,
                              _name(name, tables["hessian"]), source=landscape_path,
                              heldout=heldout, n_jobs=n_jobs)
    _write(result, tables, figures or {})
    return result.metrics, result.tags


def optimizers(weights_path, data_path, landscape_path, spec: dict, name=None, *, runs, paths,
               png=None, gif=None, n_jobs=None):
    """Each optimizer at each learning rate from each start on the slice; figure and GIF."""
    net, X, y, table, metadata = load_slice(weights_path, data_path, landscape_path, "weights")
    result = optimizers_result(net, X, y, table, metadata, spec, _name(name, runs),
                               source=landscape_path, n_jobs=n_jobs)
    _write(result, {"optimizer_runs": runs, "optimizer_paths": paths}, {"paths": png})
    if gif is not None:
        result.save_animation(gif)
    return result.metrics, result.tags


def input_attack(weights_path, data_path, landscape_path, spec: dict, target_function: str,
                 name=None, *, worst, ascent, paths, field, png=None):
    """Worst data points, gradient-ascent search from every data point, gradient arrows."""
    table, metadata = io.read_table(landscape_path)
    if metadata.get("landscape", {}).get("kind") != "input_space":
        raise ValueError(f"{landscape_path}: an input attack needs a landscape of kind 'input_space'")
    net, X, y = network_data(weights_path, data_path)[:3]
    result = input_attack_result(net, X, y, table, metadata, spec,
                                 None if net.is_classifier else target_function,
                                 _name(name, worst))
    _write(result, {"worst_inputs": worst, "ascent": ascent, "ascent_paths": paths,
                    "gradient_field": field}, {"attack": png})
    return result.metrics, result.tags


def learning_rates(model_path, weights_path, data_path, spec: dict, name: str, *,
                   tables: dict, figure, n_jobs=None) -> dict:
    """The stable learning rate predicted from λ_max, checked by the fitted estimator's own
    sgd on the rows the network trained on (its training split)."""
    data = network_data(weights_path, data_path)
    model = io.read_model(model_path)
    if network_of(model).layer_sizes != data.net.layer_sizes:
        raise ValueError(f"{model_path} is not the network in {weights_path}: retrain it")
    rows = data.rows({"samples": "all"})
    X, y = (data.X, data.y) if rows is None else (data.X[rows], data.y[rows])
    if data.net.is_classifier:  # the labels scikit-learn's fit knows, not class indices
        y = np.asarray(data.net.classes)[y.astype(np.int64)]
    options = {k: v for k, v in spec.items() if k not in ("kind", "network")}
    result = learning_rates_result(model, X, y, **options, name=name, network=spec["network"],
                                   n_jobs=n_jobs, progress=False)
    _write(result, tables, {"learning_rates": figure})
    return result.metrics


def connectivity(weights_paths, data_path, members: list[str], spec: dict, name: str, *,
                 tables: dict, figures: dict, paths_folder, page, n_jobs=None) -> dict:
    """Paths and barriers between a network's seeds (`members`, itself first) on the rows
    they trained on, and on their held-out rows; one path figure per pair into
    `paths_folder`."""
    found = [network_data(path, data_path) for path in weights_paths]
    for data, path in zip(found[1:], weights_paths[1:]):
        if data.split != found[0].split:
            raise ValueError(f"{path} trained on other rows than {weights_paths[0]}: the "
                             "seeds of one network share its held-out split")
    data = found[0]
    rows = data.rows({"samples": "all"})
    X, y = (data.X, data.y) if rows is None else (data.X[rows], data.y[rows])
    options = {k: v for k, v in spec.items() if k not in ("kind", "network")}
    result = connectivity_result([d.net for d in found], X, y, heldout=data.heldout(),
                                 names=members, name=name, network=spec["network"],
                                 n_jobs=n_jobs, progress=False, **options)
    _write(result, {"pairs": tables["pairs"]} | {t: tables[t] for t in CONNECTIVITY_TABLES},
           figures)
    with io.atomic_folder(paths_folder) as folder:
        for which in result.figure_names:
            if which.startswith("path:"):
                result.save_figure(Path(folder) / f"{which[5:]}.png", which)
    connectivity_page(result.tables["plane"], result.tables["paths"],
                      result.tables["landmarks"], page, name, result.metadata["network"]["loss"])
    return result.metrics
