"""What parse time knows of each dataset (rows, features and their names, the target's kind),
read from its config entry, from scikit-learn's bundled set, or from the user's file: enough to
check, before any job starts, everything that refers to it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

# Where the pipeline writes (the rules' RESULTS): a data file there would be overwritten.
OUTPUTS = "results"


@dataclass(frozen=True)
class DatasetFacts:
    """What parse time knows of a dataset: enough to check what refers to it."""

    n_features: int
    n_rows: int
    described: str  # how the dataset got those numbers, for messages
    path: str | None = None  # a user's file
    sha256: str | None = None  # of that file
    feature_names: tuple[str, ...] = ()  # the features' own names (generated data: x0, x1, …)
    numeric_target: bool = True  # False: the target is class labels (text)
    n_classes: int = 0  # distinct target values (0: unknown, e.g. generated data)
    example_label: object = None  # one target value, for messages
    continuous: bool = False  # numbers that are not all whole: no classes
    class_counts: dict | None = None  # rows per target value, where it is a set of classes
    n_targets: int = 1  # target columns: several for a multi-output regressor


def dataset_facts(where: str, spec: dict, problems: list[str]) -> DatasetFacts | None:
    given = [key for key in ("function", "sklearn", "path") if key in spec]
    if len(given) != 1:
        problems.append(f"{where}: give exactly one of function (generated data), sklearn (a "
                        f"bundled data set) and path (your file); got {given or 'none'}")
        return None
    if "path" in spec:
        return _file_facts(where, spec, problems)
    if "sklearn" in spec:
        return _bundled_facts(where, spec, problems)
    return _generated_facts(where, spec, problems)


def _generated_facts(where: str, spec: dict, problems: list[str]) -> DatasetFacts | None:
    before = len(problems)
    for k, (low, high) in enumerate(spec["domain"]):
        if not low < high:
            problems.append(f"{where}.domain[{k}]: low {low} must be below high {high}")
    n, dims = spec["n_samples"], len(spec["domain"])
    if spec.get("sampling") == "grid":
        per_axis = round(n ** (1.0 / dims))
        if per_axis**dims != n:
            problems.append(
                f"{where}.n_samples: sampling 'grid' needs a perfect power of the {dims} "
                f"feature(s), e.g. {per_axis**dims}; got {n}"
            )
    if len(problems) > before:
        return None
    return DatasetFacts(dims, n, f"{n} samples over a {dims}-D domain",
                        feature_names=tuple(f"x{k}" for k in range(dims)), n_classes=n,
                        continuous=True)


def _bundled_facts(where: str, spec: dict, problems: list[str]) -> DatasetFacts | None:
    """From a cache of this scikit-learn version's facts where it has them: loading a set
    imports scikit-learn, 0.8 s of every snakemake start (a dry run, a rerun with nothing to
    do) for facts that only a new scikit-learn changes."""
    from sklandscape.data.bundled import load_bundled

    key = json.dumps([spec["sklearn"], spec.get("features")])
    cache = _bundled_cache()
    if key in cache.facts:
        fields = dict(cache.facts[key])
        fields["feature_names"] = tuple(fields["feature_names"])
        if fields["class_counts"] is not None:
            fields["class_counts"] = dict(map(tuple, fields["class_counts"]))
        return DatasetFacts(**fields)
    try:
        data = load_bundled(spec["sklearn"], spec.get("features"))
    except ValueError as error:
        problems.append(f"{where}.features: {error}")
        return None
    if data.y.ndim == 2:  # linnerud: several numeric targets
        facts = DatasetFacts(data.X.shape[1], len(data.y),
                             f"scikit-learn's {data.name}, {len(data.y)} rows",
                             feature_names=tuple(data.feature_names), continuous=True,
                             n_targets=data.y.shape[1])
        cache.store(key, facts)
        return facts
    facts = DatasetFacts(
        data.X.shape[1], len(data.y), f"scikit-learn's {data.name}, {len(data.y)} rows",
        feature_names=tuple(data.feature_names), numeric_target=not data.is_classification
        or data.y.dtype.kind in "iu", n_classes=len(np.unique(data.y)),
        example_label=data.y[0].item() if hasattr(data.y[0], "item") else data.y[0],
        continuous=_continuous(data.y), class_counts=_class_counts(data.y))
    cache.store(key, facts)
    return facts


class _BundledCache:
    """Facts of scikit-learn's bundled sets, per scikit-learn version, in the user's cache
    folder (like matplotlib's font cache). A cache that cannot be read or written is none."""

    def __init__(self):
        import importlib.metadata
        import os

        try:
            folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sklandscape"
        except (RuntimeError, KeyError):  # no home folder to be found: a cache in the temp one
            import tempfile

            folder = Path(tempfile.gettempdir()) / "sklandscape-cache"
        try:
            version = importlib.metadata.version("scikit-learn")
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
        self.path = folder / f"bundled-facts-scikit-learn-{version}.json"
        try:
            self.facts = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.facts = {}

    def store(self, key: str, facts: DatasetFacts) -> None:
        import dataclasses

        from sklandscape import io

        fields = dataclasses.asdict(facts)
        if fields["class_counts"] is not None:
            fields["class_counts"] = list(fields["class_counts"].items())
        self.facts[key] = fields
        try:  # whole: two runs starting together each write all of it
            io.write_text_file(self.path, json.dumps(self.facts))
        except OSError:
            pass


@lru_cache(maxsize=1)
def _bundled_cache() -> _BundledCache:
    return _BundledCache()


# What reading a user's table may hold in memory, per byte of the file: a CSV's text becomes
# float64 columns and pandas' parsing buffers; a Parquet file is compressed.
READ_BYTES_PER_BYTE = {".csv": 10, ".parquet": 30, ".pq": 30}


def _reading_problem(where: str, path: Path) -> str | None:
    """A user's file too large to read on this machine, by its size alone (it is not read)."""
    from sklandscape.pipeline.config.resources import MEMORY_ENV, SHARE, machine_memory

    try:
        size = path.stat().st_size
    except OSError:
        return None  # the read below names the problem
    need = size * READ_BYTES_PER_BYTE.get(path.suffix.lower(), 10)
    memory = machine_memory()
    if need <= SHARE * memory:
        return None
    return (f"{where}.path: {path} has {size / 2**30:.1f} GiB; reading it needs ~"
            f"{need / 2**30:.1f} GiB, and this machine has {memory / 2**30:.1f} GiB "
            f"({MEMORY_ENV} to say otherwise): use a smaller file")


def _file_facts(where: str, spec: dict, problems: list[str]) -> DatasetFacts | None:
    from sklandscape import io
    from sklandscape.data.datasets import is_numeric_target, split_xy, target_of, user_dataset
    from sklandscape.provenance import sha256_file

    features, target = spec["features"], target_of(spec)
    key = "targets" if "targets" in spec else "target"
    for column in ([target] if isinstance(target, str) else target):
        if column in features:
            problems.append(f"{where}.{key}: column {column!r} is also one of the features")
            return None
    path = Path(spec["path"])
    outputs = (Path.cwd() / OUTPUTS).resolve()
    if path.resolve() == outputs or outputs in path.resolve().parents:
        problems.append(f"{where}.path: {path} is inside the pipeline's own outputs ({OUTPUTS}/), "
                        "which a run rewrites or deletes; keep your data outside it")
        return None
    problem = _reading_problem(where, path)
    if problem:
        problems.append(problem)
        return None
    try:
        frame = user_dataset(io.read_user_table(path), features, target, path)
    except io.DataFileError as error:
        problems.append(f"{where}.path: {error}")
        return None
    _, y = split_xy(frame)
    rows = f"{len(frame)} row" if len(frame) == 1 else f"{len(frame)} rows"
    described = f"{rows} of {path}, features {features}"
    if y.ndim == 2:  # several targets: numbers (user_dataset checked), a regressor's
        return DatasetFacts(len(features), len(frame), described, str(path), sha256_file(path),
                            feature_names=tuple(features), continuous=True,
                            n_targets=y.shape[1])
    return DatasetFacts(
        len(features), len(frame), described,
        str(path), sha256_file(path), feature_names=tuple(features),
        numeric_target=is_numeric_target(y), n_classes=len(np.unique(y)),
        example_label=y[0].item() if hasattr(y[0], "item") else y[0],
        continuous=_continuous(y), class_counts=_class_counts(y),
    )


def _class_counts(y: np.ndarray) -> dict | None:
    values, counts = np.unique(np.asarray(y), return_counts=True)
    if len(values) > 100:
        return None
    return {(v.item() if hasattr(v, "item") else v): int(c) for v, c in zip(values, counts)}


def _continuous(y: np.ndarray) -> bool:
    y = np.asarray(y)
    return y.dtype.kind == "f" and bool(np.any(y != np.round(y)))
