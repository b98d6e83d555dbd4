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

from sklandscape.kinds import PUBLIC

__version__ = "0.2.0"  # pyproject.toml's (tested)

# Where each public name lives (sklandscape.kinds): they are imported on first use, not with
# the package, so a pipeline job that imports one stage pays for nothing else.
_PUBLIC = PUBLIC

# a literal list, for static tools; a test checks it names every public name
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
    from sklandscape.api.landscape_functions import input, random_plane, weight_pairs, weights
    from sklandscape.api.learning_rates import learning_rates
    from sklandscape.api.path_functions import Fit, fit, interpolation, trajectory_pca
    from sklandscape.api.result import Result
    from sklandscape.errors import OptionError, SklandscapeError
    from sklandscape.model.network import Network
