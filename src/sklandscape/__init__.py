"""sklandscape: loss landscapes of scikit-learn MLPs, exact and fast.

    import sklandscape as sl
    result = sl.weights(model, X, y, axes=("W1[0,0]", "W2[0,0]"), span=2.0)
    result.frame          # one row per grid point: the two weights, loss
    result.plot()         # a matplotlib Figure
    result.to_parquet("landscape.parquet")   # the file the pipeline writes

One function per landscape kind (weights, input_space, weight_pairs, random_plane, hessian_plane,
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
_RENAMED = {"input": "input_space"}  # 0.2.0's names (`input` shadowed a builtin)

# Every public name. Not a literal list: a kind added to the registry is public without an
# edit here. Static tools (IDEs, type checkers) read the TYPE_CHECKING imports below.
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    if name in _RENAMED:
        raise AttributeError(f"sklandscape.{name} was renamed sklandscape.{_RENAMED[name]} "
                             "(see the changelog)")
    raise AttributeError(f"module 'sklandscape' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


if TYPE_CHECKING:  # the public names for static tools; a kind need not be added here
    from sklandscape.analyses.topology import topology  # noqa: F401
    from sklandscape.api.analysis_displays import CutsDisplay, SpectrumDisplay  # noqa: F401
    from sklandscape.api.analysis_functions import curvature, input_attack, optimizers  # noqa: F401
    from sklandscape.api.connectivity import align, connectivity  # noqa: F401
    from sklandscape.api.display import InterpolationDisplay, LandscapeDisplay  # noqa: F401
    from sklandscape.api.hessian_plane import hessian_plane  # noqa: F401
    from sklandscape.api.landscape_functions import input_space, random_plane, weight_pairs, weights  # noqa: F401
    from sklandscape.api.learning_rates import learning_rates  # noqa: F401
    from sklandscape.api.path_functions import Fit, fit, interpolation, trajectory_pca  # noqa: F401
    from sklandscape.api.result import Result  # noqa: F401
    from sklandscape.errors import OptionError, SklandscapeError  # noqa: F401
    from sklandscape.model.network import Network  # noqa: F401
