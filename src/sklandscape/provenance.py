"""Content hashes for provenance: of config values and of files.

Kept free of heavy imports: the Snakefile uses it while it parses.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

# What a pipeline job stamps on every table and figure it writes: the code's commit and the
# sha256 of each input file (sklandscape.pipeline.jobs sets it; io and the figures read it).
# Deterministic, so the same config and seed still give bit-identical tables; the MLflow run
# is found from a file by its sha256 (the run's output_sha256 tag), not named in it.
JOB_PROVENANCE: ContextVar[dict[str, Any] | None] = ContextVar("sklandscape_job_provenance",
                                                              default=None)


@contextmanager
def stamping(facts: dict[str, Any]) -> Iterator[None]:
    """Within this block every table and figure written carries `facts` as "provenance"."""
    token = JOB_PROVENANCE.set(facts)
    try:
        yield
    finally:
        JOB_PROVENANCE.reset(token)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(value):
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def stable_hash(value: Any, length: int = 16) -> str:
    """A short hash of a JSON-able value, independent of dict order and of the process."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:length]


def file_key(path) -> tuple[str, int, int]:
    """(absolute path, size, modification time): a key under which what is read from a file
    can be cached for a process, for as long as the file is unchanged."""
    stat = os.stat(path)
    return os.path.abspath(path), stat.st_size, stat.st_mtime_ns


def sha256_file(path) -> str:
    """The file's sha256, read once per process while the file is unchanged: a job hashes its
    inputs for their provenance and again to link its run to the runs that made them."""
    return _sha256(*file_key(path))


@lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
