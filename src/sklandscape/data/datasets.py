"""Datasets: named generating functions, deterministic sampling, and users' own data."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sklandscape.errors import DataFileError


def sine(X: np.ndarray) -> np.ndarray:
    """N1's curve (article fig. 3): one period of sin, which two tanh units can fit."""
    return np.sin(X[:, 0])


def waves_with_spike(X: np.ndarray) -> np.ndarray:
    """N2's surface (article fig. 2): smooth waves plus a narrow spike near (-2, 0).

    A (10, 10) tanh network fits the waves well, but the spike is too narrow for
    it and too thinly sampled, so the loss over the input (fig. 4) is high around
    x = -2, y in [-1, 1], as the article observed.
    """
    x, y = X[:, 0], X[:, 1]
    return np.sin(x) * np.cos(y / 1.5) + _spike(x, y)


# The spike of waves_with_spike: height, centre and widths (x, y) of a Gaussian.
SPIKE_HEIGHT, SPIKE_CENTRE, SPIKE_WIDTHS = 1.5, (-2.0, 0.0), (0.18, 0.55)


def _spike(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    (cx, cy), (sx, sy) = SPIKE_CENTRE, SPIKE_WIDTHS
    return SPIKE_HEIGHT * np.exp(-((x - cx) ** 2) / (2 * sx**2) - (y - cy) ** 2 / (2 * sy**2))


def paraboloid(X: np.ndarray) -> np.ndarray:
    """A bowl: easy to fit, useful as a control."""
    return np.sum(X**2, axis=1) / X.shape[1]


def gaussian_bump(X: np.ndarray) -> np.ndarray:
    return np.exp(-np.sum(X**2, axis=1) / 2.0)


GENERATORS = {f.__name__: f for f in (sine, waves_with_spike, paraboloid, gaussian_bump)}

# Fewer rows leave nothing to fit a loss to (and no variance for R²): a generated
# dataset's n_samples has the same minimum in the schema.
MIN_TRAINING_ROWS = 2


# Analytic gradients of the generating functions, (n, d) like X: the input-space loss
# (prediction - target)^2 depends on x through the target too.
def _sine_gradient(X: np.ndarray) -> np.ndarray:
    grad = np.zeros_like(X)
    grad[:, 0] = np.cos(X[:, 0])
    return grad


def _waves_with_spike_gradient(X: np.ndarray) -> np.ndarray:
    x, y = X[:, 0], X[:, 1]
    spike = _spike(x, y)
    (cx, cy), (sx, sy) = SPIKE_CENTRE, SPIKE_WIDTHS
    grad = np.zeros_like(X)
    grad[:, 0] = np.cos(x) * np.cos(y / 1.5) - spike * (x - cx) / sx**2
    grad[:, 1] = -np.sin(x) * np.sin(y / 1.5) / 1.5 - spike * (y - cy) / sy**2
    return grad


def _paraboloid_gradient(X: np.ndarray) -> np.ndarray:
    return 2.0 * X / X.shape[1]


def _gaussian_bump_gradient(X: np.ndarray) -> np.ndarray:
    return -X * gaussian_bump(X)[:, None]


GRADIENTS = {
    "sine": _sine_gradient,
    "waves_with_spike": _waves_with_spike_gradient,
    "paraboloid": _paraboloid_gradient,
    "gaussian_bump": _gaussian_bump_gradient,
}
assert GRADIENTS.keys() == GENERATORS.keys()


def feature_columns(n_features: int) -> list[str]:
    return [f"x{k}" for k in range(n_features)]


def generating_function(name: str):
    try:
        return GENERATORS[name]
    except KeyError:
        raise KeyError(
            f"unknown generating function {name!r}; choose one of {sorted(GENERATORS)}"
        ) from None


def generating_gradient(name: str):
    generating_function(name)  # the same clear error for an unknown name
    return GRADIENTS[name]


def sample_inputs(domain, n_samples: int, sampling: str, rng: np.random.Generator) -> np.ndarray:
    """Points in the box `domain` = [[lo, hi], …]: a regular grid or uniform draws."""
    lows = np.array([lo for lo, _ in domain], dtype=np.float64)
    highs = np.array([hi for _, hi in domain], dtype=np.float64)
    n_features = len(domain)
    if sampling == "uniform":
        return lows + (highs - lows) * rng.random((n_samples, n_features))
    if sampling == "grid":
        per_axis = int(round(n_samples ** (1.0 / n_features)))
        if per_axis**n_features != n_samples:
            raise ValueError(
                f"sampling 'grid' needs n_samples to be a perfect power of the {n_features} "
                f"features (e.g. {per_axis**n_features}), got {n_samples}"
            )
        axes = [np.linspace(lo, hi, per_axis) for lo, hi in zip(lows, highs)]
        mesh = np.meshgrid(*axes, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)
    raise ValueError(f"unknown sampling {sampling!r}; expected 'grid' or 'uniform'")


def generate(
    *, function: str, n_samples: int, domain, noise: float = 0.0, seed: int = 0,
    sampling: str = "uniform",
) -> pd.DataFrame:
    """A dataset with columns x0[, x1, …] and y, identical for identical arguments."""
    rng = np.random.default_rng(seed)
    X = sample_inputs(domain, n_samples, sampling, rng)
    y = generating_function(function)(X)
    if noise:
        y = y + noise * rng.standard_normal(n_samples)
    frame = pd.DataFrame(X, columns=feature_columns(X.shape[1]))
    frame["y"] = y
    return frame


def target_columns(y: np.ndarray) -> dict[str, np.ndarray]:
    """A data table's target columns: y for one target, y0, y1, … for several (a
    multi-output regressor's)."""
    y = np.asarray(y)
    if y.ndim == 1:
        return {"y": y}
    return {f"y{j}": y[:, j] for j in range(y.shape[1])}


def target_names(columns) -> list[str]:
    """The target columns of a data table (see target_columns), in order."""
    if "y" in columns:
        return ["y"]
    found = sorted((c for c in columns if re.fullmatch(r"y\d+", str(c))), key=lambda c: int(c[1:]))
    if not found:
        raise ValueError(f"a data table needs a target column y (or y0, y1, …); it has "
                         f"{list(columns)}")
    return found


def target_of(spec: dict) -> str | list[str]:
    """A file dataset's target column, or its list of target columns (`targets`)."""
    return spec["targets"] if "targets" in spec else spec["target"]


def split_xy(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """X (float64) and y: float64 where the target is numbers, else the labels as they are;
    (n, k) for k target columns y0, y1, …."""
    targets = target_names(frame.columns)
    features = [c for c in frame.columns if c not in targets]
    X = frame[features].to_numpy(np.float64)
    if len(targets) > 1:
        return X, frame[targets].to_numpy(np.float64)
    y = frame["y"]
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    return X, (y.to_numpy(np.float64) if numeric else y.to_numpy())


def is_numeric_target(y: np.ndarray) -> bool:
    return np.asarray(y).dtype.kind in "iuf"


def _row_position(row: int, source_is_csv: bool) -> str:
    # A CSV's line: the header is line 1 and blank lines are kept as rows when reading.
    return f"row {row} (line {row + 2})" if source_is_csv else f"row {row}"


# Beyond this a value's square (a squared error, a distance) overflows float64.
LARGEST_VALUE = 1e150


def user_dataset(raw: pd.DataFrame, features: list[str], target: str | list[str], source
                 ) -> pd.DataFrame:
    """A user's table as x0, x1, …, y, or a DataFileError naming column and row.

    Every feature value must be a finite number: a network cannot train on NaN, and the
    landscapes would silently average over it. The target is numbers (float64) or, where
    any of its values is not a number, class labels (kept as text; none may be empty).
    A list of targets (a multi-output regressor's) becomes y0, y1, …, each numbers.
    """
    targets = [target] if isinstance(target, str) else list(target)
    target_names = ["y"] if isinstance(target, str) else [f"y{j}" for j in range(len(targets))]
    wanted = [*features, *targets]
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        shown = ", ".join(repr(str(c)) for c in raw.columns)
        names = ", ".join(map(repr, missing))
        hint = ""
        for separator, called in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if any(separator in str(c) for c in raw.columns):
                hint = (f" (the header seems to be separated by {called}: sklandscape reads "
                        "comma-separated CSV; save the file with commas)")
                break
        raise DataFileError(f"{source}: no column {names}; its columns are {shown}{hint}")
    if len(raw) == 0:
        raise DataFileError(f"{source}: the file has a header but no data rows")
    is_csv = str(source).lower().endswith(".csv")
    columns = {}
    for new_name, column in zip([*feature_columns(len(features)), *target_names], wanted):
        values = raw[column]
        if pd.api.types.is_bool_dtype(values):
            raise DataFileError(f"{source}: column {column!r} holds true/false values, not numbers")
        numbers = pd.to_numeric(values, errors="coerce")
        not_numeric = numbers.isna() & values.notna()
        if new_name == "y" and not_numeric.any():
            empty = values.isna().to_numpy() | (values.astype(str).str.strip() == "").to_numpy()
            if empty.any():
                row = int(np.flatnonzero(empty)[0])
                raise DataFileError(f"{source}: column {column!r}, {_row_position(row, is_csv)}: "
                                    "an empty class label")
            columns[new_name] = values.astype(str).to_numpy()
            continue
        if not_numeric.any():
            row = int(np.flatnonzero(not_numeric.to_numpy())[0])
            raise DataFileError(
                f"{source}: column {column!r}, {_row_position(row, is_csv)}: "
                f"{values.iloc[row]!r} is not a number"
            )
        array = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(array)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            what = "empty (NaN)" if np.isnan(array[row]) else f"{array[row]} (not finite)"
            raise DataFileError(
                f"{source}: column {column!r}, {_row_position(row, is_csv)}: {what}; "
                f"{int(bad.sum())} value(s) in this column are not finite numbers"
            )
        huge = np.abs(array) > LARGEST_VALUE
        if huge.any():
            row = int(np.flatnonzero(huge)[0])
            raise DataFileError(
                f"{source}: column {column!r}, {_row_position(row, is_csv)}: {array[row]:g} is "
                f"too large (beyond ±{LARGEST_VALUE:g} its square overflows float64); rescale "
                "the column")
        columns[new_name] = array
    return pd.DataFrame(columns)


def nearest_neighbour_target(X: np.ndarray, y: np.ndarray):
    """A target function for data without a generating one: y of the nearest sample.

    Euclidean distance in the features' own units; exact at the samples, piecewise
    constant (Voronoi cells) between them.
    """
    from scipy.spatial import cKDTree

    tree = cKDTree(np.asarray(X, dtype=np.float64))
    y = np.asarray(y, dtype=np.float64)

    def target(points: np.ndarray) -> np.ndarray:
        _, nearest = tree.query(np.asarray(points, dtype=np.float64), k=1)
        return y[nearest]

    return target


def holdout_split(n: int, share: float, seed: int, labels=None) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out row indices (each sorted): a seeded share held out, stratified
    by class where `labels` are given (scikit-learn's train_test_split)."""
    from sklearn.model_selection import train_test_split

    train, heldout = train_test_split(np.arange(n), test_size=share, random_state=seed,
                                      stratify=labels)
    return np.sort(train), np.sort(heldout)
