"""The data sets that ship with scikit-learn (no download), as sklandscape tables: x0, x1, ...
and y, with the features' and the target's own names kept beside them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sklandscape.data.datasets import target_columns

# name -> (loader name in sklearn.datasets, what it is)
BUNDLED = {
    "diabetes": ("load_diabetes", "regression: disease progression after one year, 10 features"),
    "breast_cancer": ("load_breast_cancer", "2 classes (malignant, benign), 30 features"),
    "iris": ("load_iris", "3 species, 4 features"),
    "wine": ("load_wine", "3 cultivars, 13 features"),
    "digits": ("load_digits", "10 digits, 64 pixel intensities (8 x 8)"),
    "linnerud": ("load_linnerud", "regression of 3 body measures on 3 exercises, 20 rows"),
}


@dataclass(frozen=True)
class Bundled:
    """A bundled set, its features (a chosen subset) and its target, with their names."""

    name: str
    X: np.ndarray  # (n, d) float64
    y: np.ndarray  # float64 (regression; (n, k) for k targets) or the class names
    feature_names: list[str]
    target_name: str | list[str]  # one name per target column
    is_classification: bool

    def frame(self) -> pd.DataFrame:
        columns = {f"x{k}": self.X[:, k] for k in range(self.X.shape[1])}
        return pd.DataFrame({**columns, **target_columns(self.y)})

    def columns(self) -> dict[str, str]:
        """Table column -> the set's own name (for figures, MLflow and the metadata)."""
        names = [self.target_name] if isinstance(self.target_name, str) else self.target_name
        return {**{f"x{k}": n for k, n in enumerate(self.feature_names)},
                **dict(zip(target_columns(self.y), names))}


def load_bundled(name: str, features: list[str] | None = None) -> Bundled:
    """One of BUNDLED; `features` picks some of its features by name, in that order."""
    import sklearn.datasets

    if name not in BUNDLED:
        raise ValueError(f"no bundled data set {name!r}; scikit-learn ships {sorted(BUNDLED)}")
    # scaled=False: diabetes' own units (age in years, BMI, ...), not sklearn's pre-scaled ones.
    options = {"scaled": False} if name == "diabetes" else {}
    raw = getattr(sklearn.datasets, BUNDLED[name][0])(**options)
    names = [str(n) for n in raw.feature_names]
    chosen = list(features) if features else names
    unknown = [f for f in chosen if f not in names]
    if unknown:
        raise ValueError(f"{name} has no feature(s) {unknown}; its features are {names}")
    X = np.asarray(raw.data, dtype=np.float64)[:, [names.index(f) for f in chosen]]
    target_names = getattr(raw, "target_names", None)
    if name == "linnerud":  # Weight, Waist, Pulse: a multi-output regressor's targets
        return Bundled(name, X, np.asarray(raw.target, dtype=np.float64), chosen,
                       [str(n) for n in raw.target_names], False)
    if name == "diabetes":
        return Bundled(name, X, np.asarray(raw.target, dtype=np.float64), chosen,
                       "disease_progression", False)
    labels = np.asarray(target_names)[raw.target] if name != "digits" else raw.target
    return Bundled(name, X, np.asarray(labels), chosen, "class", True)
