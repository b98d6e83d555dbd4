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
from functools import cache, lru_cache
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


# --- the code a job runs ----------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parent


def _module_file(name: str) -> Path | None:
    """The source file of module `name` (sklandscape.…) as imported, or None if it is none."""
    base = PACKAGE.joinpath(*name.split(".")[1:])
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


@cache
def _named_modules(path: Path) -> frozenset[str]:
    """sklandscape's modules that a source file imports, at any depth (lazy imports inside
    functions too); a public name imported from the package (`from sklandscape import
    weights`) counts as the module that defines it."""
    import ast

    names = set()
    for node in _walk_run(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    public = _public_names()
    names = {public.get(n.removeprefix("sklandscape."), n) if n.count(".") == 1 else n
             for n in names}
    return frozenset(n for n in names if n == "sklandscape" or n.startswith("sklandscape."))


def _walk_run(tree):
    """ast.walk, less what never runs: the bodies of `if TYPE_CHECKING:`."""
    import ast

    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            todo += node.orelse
            continue
        todo += ast.iter_child_nodes(node)


@lru_cache(maxsize=1)
def _public_names() -> dict[str, str]:
    """The package's lazy public names and their modules (sklandscape.kinds.PUBLIC)."""
    from sklandscape.kinds import PUBLIC

    return dict(PUBLIC)


def code_files(script, modules=()) -> list[Path]:
    """The sklandscape source files that a workflow script runs: the modules it imports, and
    `modules` (what it imports by name at run time, e.g. a kind's module from the registry),
    followed through every module they import, and the packages that hold them."""
    found: dict[Path, None] = {}
    todo = sorted(_named_modules(Path(script)) | set(modules))
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b too
            path = _module_file(".".join(parts[:depth]))
            if path is not None and path not in found:
                found[path] = None
                todo += sorted(_named_modules(path))
    return sorted(found)


def code_sha256(script, modules=()) -> str:
    """A hash of the script and of the sklandscape source it runs (code_files), by content:
    an edit to any of them changes it, and reverting the edit changes it back."""
    digest = hashlib.sha256()
    for path in [Path(script).resolve(), *code_files(script, modules)]:
        relative = path.relative_to(PACKAGE.parent) if path.is_relative_to(PACKAGE.parent) \
            else Path(path.name)
        digest.update(f"{relative.as_posix()}\0".encode())
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
