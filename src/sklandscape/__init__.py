"""sklandscape: loss landscapes of scikit-learn MLPs, exact and fast.

    import sklandscape as sl
    result = sl.weights(model, X, y, axes=("W1[0,0]", "W2[0,0]"), span=2.0)
    result.frame          # one row per grid point: the two weights, loss
    result.plot()         # a matplotlib Figure
    result.to_parquet("landscape.parquet")   # the file the pipeline writes

One function per landscape kind (weights, input, weight_pairs, random_plane, hessian_plane,
interpolation, trajectory_pca) and analysis (curvature, optimizers, input_attack, learning_rates,
connectivity, with `align`); `fit` records a fit's path
for interpolation and trajectory_pca; `LandscapeDisplay` draws a 2-D map on any Axes. The package's layers, lowest first: model and data,
engine, directions and analyses, figures, io, api, pipeline.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.2.0"  # pyproject.toml's (tested)

# Where each public name lives. They are imported on first use, not with the package: a
# pipeline job imports sklandscape.pipeline.<stage> and must not pay for the whole API (pandas,
# matplotlib, scipy) when it uses a part of it.
_PUBLIC = {
    "weights": "sklandscape.api.landscape_functions",
    "input": "sklandscape.api.landscape_functions",
    "weight_pairs": "sklandscape.api.landscape_functions",
    "random_plane": "sklandscape.api.landscape_functions",
    "hessian_plane": "sklandscape.api.hessian_plane",
    "interpolation": "sklandscape.api.landscape_functions",
    "trajectory_pca": "sklandscape.api.landscape_functions",
    "fit": "sklandscape.api.landscape_functions",
    "Fit": "sklandscape.api.landscape_functions",
    "curvature": "sklandscape.api.analysis_functions",
    "optimizers": "sklandscape.api.analysis_functions",
    "input_attack": "sklandscape.api.analysis_functions",
    "learning_rates": "sklandscape.api.learning_rates",
    "align": "sklandscape.api.connectivity",
    "connectivity": "sklandscape.api.connectivity",
    "topology": "sklandscape.analyses.topology",
    "Result": "sklandscape.api.result",
    "LandscapeDisplay": "sklandscape.api.display",
    "Network": "sklandscape.model.network",
    "SklandscapeError": "sklandscape.errors",
    "OptionError": "sklandscape.errors",
}

__all__ = [
    "Fit",
    "LandscapeDisplay",
    "Network",
    "OptionError",
    "Result",
    "SklandscapeError",
    "__version__",
    "align",
    "connectivity",
    "curvature",
    "fit",
    "hessian_plane",
    "input",
    "input_attack",
    "interpolation",
    "learning_rates",
    "optimizers",
    "random_plane",
    "topology",
    "trajectory_pca",
    "weight_pairs",
    "weights",
]


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sklandscape' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


if TYPE_CHECKING:
    from sklandscape.analyses.topology import topology
    from sklandscape.api.analysis_functions import curvature, input_attack, optimizers
    from sklandscape.api.connectivity import align, connectivity
    from sklandscape.api.display import LandscapeDisplay
    from sklandscape.api.hessian_plane import hessian_plane
    from sklandscape.api.landscape_functions import (
        Fit,
        fit,
        input,
        interpolation,
        random_plane,
        trajectory_pca,
        weight_pairs,
        weights,
    )
    from sklandscape.api.learning_rates import learning_rates
    from sklandscape.api.result import Result
    from sklandscape.errors import OptionError, SklandscapeError
    from sklandscape.model.network import Network
