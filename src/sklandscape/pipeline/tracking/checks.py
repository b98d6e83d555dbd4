"""What a run record may say, checked before the logger trusts any of it.

Anyone who can write `results/.tracking/` can write a record, and the logger runs with the
user's rights against a store the team may share. A record is therefore read as untrusted
input: its fields must have the form a job writes (ids, statuses, MLflow's key rules), and
every file it names must be a regular file inside the project's results folder (the path
resolved, so no link leads out) and of a bounded size. A record that fails is set aside with
its reason (sklandscape.pipeline.tracking.logger), never half-logged.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from sklandscape.pipeline.tracking.records import STATUSES

MAX_ARTIFACT_ENV = "SKLANDSCAPE_MAX_ARTIFACT_MB"
DEFAULT_MAX_ARTIFACT_MB = 256
HEX32 = re.compile(r"[0-9a-f]{32}")
HEX64 = re.compile(r"[0-9a-f]{64}")
HEX16 = re.compile(r"[0-9a-f]{16}")  # provenance.stable_hash
# MLflow's rule for param, metric and tag keys, at its length limit
KEY = re.compile(r"[\w\-. :/]{1,250}")
FOLDER = re.compile(r"[\w\-]{1,64}")
PROCESS = re.compile(r"[^\s:]{1,255}:\d{1,10}(:\d{1,20})?")
# Tags a record may not set: MLflow's own (but the description) and those the logger owns.
OWN_TAGS = ("sklandscape_record", "sklandscape_record_token", "sklandscape_record_end", "output_sha256", "output_location",
            "upstream_run_id", "upstream_run", "tile_runs")


class RecordProblem(ValueError):
    """Why a record is not logged; the logger moves it aside with this message."""


def max_artifact_bytes() -> int:
    text = os.environ.get(MAX_ARTIFACT_ENV, "")
    try:
        value = float(text) if text else DEFAULT_MAX_ARTIFACT_MB
    except ValueError:
        value = DEFAULT_MAX_ARTIFACT_MB
    return int(max(value, 0) * 1024 * 1024)


def _text(value, what: str, limit: int = 500) -> str:
    if not isinstance(value, str) or len(value) > limit or any(ord(c) < 32 for c in value):
        raise RecordProblem(f"{what}: expected text of at most {limit} characters without "
                            f"control characters, got {_show(value)}")
    return value


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _mapping(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise RecordProblem(f"{what}: expected a mapping, got {_show(value)}")
    return value


def _identity(value, what: str) -> None:
    value = _mapping(value, what)
    sha256, location = value.get("sha256"), value.get("location")
    if (set(value) != {"sha256", "location"} or not isinstance(sha256, str)
            or not HEX64.fullmatch(sha256) or not isinstance(location, str)
            or not HEX16.fullmatch(location)):
        raise RecordProblem(f"{what}: expected a file identity (sha256, location), got "
                            f"{_show(value)}")


def project_file(path, results: Path, what: str) -> None:
    """A file a record names: inside `results` once resolved, and if it exists, a regular file
    of at most max_artifact_bytes() (a file a failed job deleted is said later, not here)."""
    if not isinstance(path, str) or not os.path.isabs(path):
        raise RecordProblem(f"{what}: expected an absolute path, got {_show(path)}")
    resolved = Path(os.path.realpath(path))
    if not resolved.is_relative_to(results):
        raise RecordProblem(f"{what}: {path} is outside the project's results folder {results}")
    try:
        info = os.stat(resolved)
    except FileNotFoundError:
        return
    except OSError as error:
        raise RecordProblem(f"{what}: {path}: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise RecordProblem(f"{what}: {path} is not a regular file")
    if info.st_size > max_artifact_bytes():
        raise RecordProblem(f"{what}: {path} has {info.st_size} bytes, more than "
                            f"{MAX_ARTIFACT_ENV}={max_artifact_bytes() // 2**20} MB allows")


def check_record(record, results: Path) -> None:
    """Raise RecordProblem naming the first field of `record` that a job would not write."""
    results = Path(os.path.realpath(results))
    record = _mapping(record, "the record")
    expected = {"id", "token", "store", "experiment", "run_name", "status", "start_ms", "end_ms",
                "job_process", "tags", "params", "metrics", "artifacts", "output", "links",
                "adopt", "dataset", "model"}
    if set(record) != expected:
        missing, extra = sorted(expected - set(record)), sorted(set(record) - expected)
        raise RecordProblem(f"not a run record: {'missing ' + ', '.join(missing) if missing else ''}"
                            f"{'; ' if missing and extra else ''}"
                            f"{'unknown ' + ', '.join(map(str, extra)) if extra else ''}")
    for field in ("id", "token"):
        if not isinstance(record[field], str) or not HEX32.fullmatch(record[field]):
            raise RecordProblem(f"{field}: expected 32 hexadecimal digits, got "
                                f"{_show(record[field])}")
    if not isinstance(record["store"], str) or not HEX64.fullmatch(record["store"]):
        raise RecordProblem(f"store: expected a store's hash, got {_show(record['store'])}")
    _text(record["experiment"], "experiment")
    _text(record["run_name"], "run_name", 250)
    if record["status"] not in STATUSES:
        raise RecordProblem(f"status: expected one of {', '.join(STATUSES)}, got "
                            f"{_show(record['status'])}")
    for field in ("start_ms", "end_ms"):
        value = record[field]
        if not (value is None and field == "end_ms") and (
                type(value) is not int or not 0 <= value < 10**14):
            raise RecordProblem(f"{field}: expected milliseconds since 1970, got {_show(value)}")
    if not isinstance(record["job_process"], str) or not PROCESS.fullmatch(record["job_process"]):
        raise RecordProblem(f"job_process: expected host:pid:start, got "
                            f"{_show(record['job_process'])}")
    for field, limit in (("tags", 5000), ("params", 6000)):
        for key, value in _mapping(record[field], field).items():
            if not isinstance(key, str) or not KEY.fullmatch(key):
                raise RecordProblem(f"{field}: {_show(key)} is not a key MLflow accepts")
            if not isinstance(value, str) or len(value) > limit:
                raise RecordProblem(f"{field}.{key}: expected text of at most {limit} characters")
    for key in record["tags"]:
        if key in OWN_TAGS or (key.startswith("mlflow.") and key != "mlflow.note.content"):
            raise RecordProblem(f"tags.{key}: a tag the logger sets itself")
    for key, value in _mapping(record["metrics"], "metrics").items():
        if not isinstance(key, str) or not KEY.fullmatch(key):
            raise RecordProblem(f"metrics: {_show(key)} is not a key MLflow accepts")
        if type(value) not in (int, float):  # NaN and inf are a job's honest answers
            raise RecordProblem(f"metrics.{key}: expected a number, got {_show(value)}")
    if not isinstance(record["artifacts"], list):
        raise RecordProblem("artifacts: expected a list")
    for item in record["artifacts"]:
        if (not isinstance(item, list) or len(item) != 2
                or not (item[1] is None or isinstance(item[1], str) and FOLDER.fullmatch(item[1]))):
            raise RecordProblem(f"artifacts: expected [path, folder], got {_show(item)}")
        project_file(item[0], results, "artifacts")
    if record["output"] is not None:
        _identity(record["output"], "output")
    for field in ("links", "adopt"):
        if not isinstance(record[field], list):
            raise RecordProblem(f"{field}: expected a list")
        for item in record[field]:
            _identity(item, field)
    if record["dataset"] is not None:
        dataset = _mapping(record["dataset"], "dataset")
        if set(dataset) != {"path", "name", "targets"}:
            raise RecordProblem(f"dataset: expected path, name, targets, got {_show(dataset)}")
        _text(dataset["name"], "dataset.name", 250)
        _text(dataset["targets"], "dataset.targets", 250)
        project_file(dataset["path"], results, "dataset.path")
    if record["model"] is not None:
        model = _mapping(record["model"], "model")
        if set(model) != {"path", "data", "name"}:
            raise RecordProblem(f"model: expected path, data, name, got {_show(model)}")
        if not isinstance(model["name"], str) or not FOLDER.fullmatch(model["name"]):
            raise RecordProblem(f"model.name: expected a network's name, got {_show(model['name'])}")
        project_file(model["path"], results, "model.path")
        project_file(model["data"], results, "model.data")
