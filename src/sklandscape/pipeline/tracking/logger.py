"""MLflow: the only module that imports it. It runs in the main snakemake process, never in
a job: it prepares the store once, then logs the jobs' run records (sklandscape.pipeline.
run_records) as they appear, from a thread, so that no job pays for mlflow.

Where runs go is the environment's business, not the config's: MLFLOW_TRACKING_URI
(default sqlite:///mlflow.db in the working directory) and MLFLOW_EXPERIMENT_NAME,
which the Snakefile sets from config. Neither is a rule param, so moving the store
reruns nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import time
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import mlflow
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from sklandscape.data.datasets import target_names
from sklandscape.pipeline.tracking.checks import RecordProblem, check_record
from sklandscape.pipeline.tracking.records import (
    FINISHED,
    INVOCATION_ENV,
    KILLED,
    RUNNING,
    Unreadable,
    process_alive,
    read_records,
    records_dir,
)
from sklandscape.pipeline.tracking.records import (
    ORPHANED as ORPHANED_REASON,
)
from sklandscape.pipeline.tracking.settings import (
    check_server,
    experiment_name,
    redact,
    store_id,
    tracking_uri,
)
from sklandscape.provenance import file_key

OUTPUT_TAG = "output_sha256"
OUTPUT_LOCATION_TAG = "output_location"  # a hash of the output's absolute path
RECORD_TAG = "sklandscape_record"  # the record a run was logged from: logging it again is a no-op
ENDED_TAG = "sklandscape_record_end"  # the end (ms) of the record a run was finished from
TOKEN_TAG = "sklandscape_record_token"  # sha256 of the record's secret: binds the run to it
REJECTED = "rejected"  # the records folder's subfolder for records that are not logged
ORPHANED = f"interrupted: {ORPHANED_REASON}"
FINAL_WAIT = 10.0  # seconds a stopped job has to write its own end, once all have ended
LOST = "interrupted: its job ended without finishing its run (killed, or lost with its node)"


def _client() -> MlflowClient:
    mlflow.set_tracking_uri(tracking_uri())
    return MlflowClient()


@contextmanager
def _creating_store():
    """One process at a time creates a local SQLite store and its experiment: two
    invocations starting together on a new store otherwise both run its migrations, and one
    fails ("table ... already exists"). A lock file beside the store orders them; a server
    store (http…) serialises this itself."""
    uri = tracking_uri()
    if not uri.startswith("sqlite:///"):
        yield
        return
    import fcntl

    database = uri.removeprefix("sqlite:///")
    lock = f"{database}.lock"
    os.makedirs(os.path.dirname(os.path.abspath(lock)), exist_ok=True)
    # Not through a link: in a folder others can write, a link planted at the lock's name would
    # have this process (root, say) create or open a file where its owner points it.
    fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def prepare_store(experiment: str | None = None) -> str:
    """Create the store and the experiment once, before any job starts.

    Parallel jobs that each initialise a fresh SQLite store race on its schema; done
    here, in one process, they find both ready. Runs that an earlier invocation left
    RUNNING are marked KILLED once that invocation is known to be gone: its snakemake
    process no longer exists on this host, or, for a run of another machine (a team's
    server, a SLURM node), the run has not beaten its heartbeat for HEARTBEAT_GRACE
    seconds. A live one, sharing the store, is left alone. Returns the experiment id.
    """
    name = experiment or experiment_name()
    check_server()
    with _creating_store():
        client = _client()
        experiment_id = active_experiment(client, name)  # a new SQLite store is created here
    this_invocation = os.environ.get(INVOCATION_ENV, "")
    stale = client.search_runs(
        [experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=10000
    )
    for run in stale:
        tags = run.data.tags
        if tags.get("invocation") == this_invocation:
            continue
        if process_alive(tags.get("invocation_process", "")) or beating(run):
            print(f"tracking: run {run.info.run_id} ({run.info.run_name}) belongs to a snakemake "
                  f"invocation still running ({tags.get('invocation_process') or 'unknown'}); "
                  f"left RUNNING")
            continue
        client.set_tag(run.info.run_id, "error", ORPHANED)
        client.set_terminated(run.info.run_id, status="KILLED")
    return experiment_id


# A job's run sets its `heartbeat` tag (Unix seconds) this often; a run of another machine
# whose last beat (or start, before its first) is older than the grace is taken as dead.
HEARTBEAT_SECONDS = 30.0
HEARTBEAT_GRACE = 150.0
HEARTBEAT_TAG = "heartbeat"


def beating(run, now: float | None = None) -> bool:
    """Whether a run of another machine has shown life within HEARTBEAT_GRACE seconds.

    On this host the process check (process_alive) decides; a run that names no process
    (an older version's) counts only by its heartbeat.
    """
    tags = run.data.tags
    process = tags.get("invocation_process", "")
    if process and process.split(":")[0] == socket.gethostname():
        return False
    now = time.time() if now is None else now
    try:
        last = float(tags[HEARTBEAT_TAG])
    except (KeyError, ValueError):
        last = run.info.start_time / 1000 if process else -math.inf
    return now - last < HEARTBEAT_GRACE


def active_experiment(client: MlflowClient, name: str) -> str:
    """The id of experiment `name`, created if there is none, restored if it was deleted (in
    the UI, say): its runs would otherwise go nowhere, and every later record with them."""
    found = client.get_experiment_by_name(name)
    if found is None:
        return client.create_experiment(name)
    if found.lifecycle_stage == "deleted":
        client.restore_experiment(found.experiment_id)
        print(f"tracking: the experiment {name!r} had been deleted; restored it to log the "
              f"runs of this pipeline (delete it again after the run to remove them)", flush=True)
    return found.experiment_id


def model_requirements() -> list[str]:
    """Pinned versions of what loading the logged model needs, read from this environment."""
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in ("scikit-learn", "numpy", "scipy", "skops")]


class RecordLogger:
    """Logs run records into the store: each as an MLflow run, RUNNING while its job computes,
    then with everything the job recorded and its final status. A record is deleted once its
    run holds all of it; logging a record again (after a crash in between) finds its run by
    the RECORD_TAG instead of making a second one."""

    def __init__(self, folder: Path | None = None, experiment: str | None = None):
        self.folder = Path(folder or records_dir())
        self.experiment = experiment or experiment_name()
        self.invocation = os.environ.get(INVOCATION_ENV, "")
        self.experiment_ids = {self.experiment: prepare_store(self.experiment)}
        self.client = _client()
        self.open: dict[str, str] = {}  # record id -> run id, runs still RUNNING
        self.last_beat = time.time()
        self.failing = False
        self.results = Path(os.path.realpath(self.folder)).parent  # what records may name
        self.store = store_id()
        self.waiting_said = False

    def log_pass(self, final: bool = False) -> int:
        """One look at the folder; `final`: every job of this invocation has ended. Returns
        how many records are left for this store. A record that fails its checks, or that
        MLflow refuses, is set aside (reject) and the pass goes on; a failure of the store
        itself ends the pass (a server that is gone would make each record wait out its
        retries)."""
        records, waiting = [], 0
        for path, record in read_records(self.folder):
            try:
                if isinstance(record, Unreadable):
                    raise RecordProblem(str(record))
                check_record(record, self.results)
            except RecordProblem as problem:
                self._reject(path, str(problem))
                continue
            if record["store"] != self.store:  # a job of a run with another store wrote it
                waiting += 1
                continue
            records.append((path, record))
        if waiting and not self.waiting_said:
            self.waiting_said = True
            print(f"tracking: {waiting} run record(s) in {self.folder} were written for another "
                  f"MLflow store than {redact(tracking_uri())}; they wait there until snakemake "
                  f"runs with that store", flush=True)
        # Ended runs in the order they ended: a run's producer is logged before it.
        records.sort(key=lambda item: (item[1]["status"] == RUNNING, item[1].get("end_ms") or 0))
        left = 0
        for done, (path, record) in enumerate(records):
            try:
                left += not self._log(path, record, final)
            except RecordProblem as problem:
                self.open.pop(record["id"], None)
                self._reject(path, str(problem))
            except Exception as error:  # noqa: BLE001 (kept on disk; said once)
                return self._failed(record, error, left + len(records) - done)
        self.failing = False
        if time.time() - self.last_beat >= HEARTBEAT_SECONDS:
            self._beat()
        return left

    def _failed(self, record: dict, error: Exception, left: int) -> int:
        if not self.failing:
            print(f"tracking: could not log the run {record['run_name']} to "
                  f"{redact(tracking_uri())} ({type(error).__name__}: {redact(error)}); its "
                  f"record stays in {self.folder}", flush=True)
        self.failing = True
        return left

    def _reject(self, path: Path, reason: str) -> None:
        """Set a record aside, with its reason beside it, so that the rest are logged."""
        folder = self.folder / REJECTED
        folder.mkdir(mode=0o700, exist_ok=True)
        target = folder / path.name
        try:
            os.replace(path, target)
        except FileNotFoundError:
            return
        (folder / f"{path.name}.reason").write_text(redact(reason) + "\n")
        print(f"tracking: the run record {path.name} is not logged: {redact(reason)}; moved to "
              f"{target}", flush=True)

    def _beat(self) -> None:
        """A heartbeat for every run still computing: another machine on this store sees
        this invocation alive (prepare_store, beating)."""
        self.last_beat = time.time()
        for run_id in self.open.values():
            self.client.set_tag(run_id, HEARTBEAT_TAG, f"{self.last_beat:.0f}")

    def _ended_without_a_word(self, path: Path, record: dict, final: bool) -> dict | None:
        """A RUNNING record whose job is gone, with its status, or None while it may live."""
        ours = record["tags"].get("invocation") == self.invocation
        if ours and not final and not _job_gone(record):
            return None
        if ours and final:  # Snakemake has stopped its jobs: give each a moment to say so
            deadline = time.time() + FINAL_WAIT
            while process_alive(record["job_process"]) and time.time() < deadline:
                time.sleep(0.1)
        if not ours and (process_alive(record["job_process"])
                         or process_alive(record["tags"].get("invocation_process", ""))):
            return None
        # Read again now that the job is known gone: it may have ended its run just before.
        try:
            fresh = json.loads(path.read_text())
        except (OSError, ValueError):
            fresh = record
        if fresh["status"] != RUNNING:
            return fresh
        fresh["status"] = KILLED
        fresh["end_ms"] = int(time.time() * 1000)
        fresh["tags"]["error"] = LOST if ours else ORPHANED
        return fresh

    def _log(self, path: Path, record: dict, final: bool) -> bool:
        """Log what the record holds; True once it is done (and deleted)."""
        if record["status"] == RUNNING:
            ended = self._ended_without_a_word(path, record, final)
            if ended is None:
                if record["id"] not in self.open:
                    self.open[record["id"]] = self._run_of(record)
                return False
            record = ended
        run_id = self.open.pop(record["id"], None) or self._run_of(record)
        if self.client.get_run(run_id).data.tags.get(ENDED_TAG) == str(record["end_ms"]):
            # this very end was logged whole before, and the record not yet deleted (a crash
            # in between): nothing to log twice
            path.unlink(missing_ok=True)
            return True
        self._finish(run_id, record)
        path.unlink(missing_ok=True)
        return True

    def _experiment_id(self, name: str) -> str:
        if name not in self.experiment_ids:
            self.experiment_ids[name] = active_experiment(self.client, name)
        return self.experiment_ids[name]

    def _run_of(self, record: dict) -> str:
        """The record's run: found if an earlier pass made it, else made now (RUNNING)."""
        experiment_id = self._experiment_id(record["experiment"] or self.experiment)
        found = self.client.search_runs(
            [experiment_id], filter_string=f"tags.{RECORD_TAG} = '{record['id']}'", max_results=1)
        if found:
            if found[0].data.tags.get(TOKEN_TAG) != _token_hash(record):
                raise RecordProblem(f"it names the run {found[0].info.run_id}, which another "
                                    "record made (a forged or copied record)")
            return found[0].info.run_id
        tags = {**record["tags"], RECORD_TAG: record["id"], TOKEN_TAG: _token_hash(record)}
        tags.pop("error", None)
        with _refusals():
            run = self.client.create_run(experiment_id, start_time=record["start_ms"],
                                         tags=tags, run_name=record["run_name"])
            self.client.log_batch(run.info.run_id, params=[Param(k, v) for k, v in
                                                           record["params"].items()])
        return run.info.run_id

    def _producer(self, identity: dict, experiment_id: str):
        """The latest run (its info) that wrote this file, by place and content, in this
        experiment; None if there is none."""
        found = self.client.search_runs(
            [experiment_id],
            filter_string=f"tags.{OUTPUT_TAG} = '{identity['sha256']}' and "
                          f"tags.{OUTPUT_LOCATION_TAG} = '{identity['location']}'",
            order_by=["attributes.start_time DESC"], max_results=1)
        return found[0].info if found else None

    def _finish(self, run_id: str, record: dict) -> None:
        client = self.client
        experiment_id = self._experiment_id(record["experiment"] or self.experiment)
        tags = dict(record["tags"])
        made_from = []
        for identity in record["links"]:
            parent = self._producer(identity, experiment_id)
            if parent is None:
                print(f"tracking: no run in this store produced the input of "
                      f"{record['run_name']}; not linked", flush=True)
                continue
            # A link, not nesting: nested runs hide, collapsed, in MLflow's run list and its
            # searches; only a tiled landscape's tiles nest (under their gathered run).
            tags["upstream_run_id"], tags["upstream_run"] = parent.run_id, parent.run_name
            made_from.append(
                f"[{parent.run_name}](#/experiments/{experiment_id}/runs/{parent.run_id})")
        if made_from:
            tags["mlflow.note.content"] = (tags.get("mlflow.note.content", "")
                                           + f"\n\nMade from the output of {', '.join(made_from)}.")
        if record["output"]:
            tags[OUTPUT_TAG] = record["output"]["sha256"]
            tags[OUTPUT_LOCATION_TAG] = record["output"]["location"]
        if record["adopt"]:
            children = [self._producer(identity, experiment_id) for identity in record["adopt"]]
            tags["tile_runs"] = " ".join(str(child and child.run_id) for child in children)
            for child in filter(None, children):
                client.set_tag(child.run_id, "mlflow.parentRunId", run_id)
        stamp = record["end_ms"] or int(time.time() * 1000)
        with _refusals():
            client.log_batch(
                run_id,
                metrics=[Metric(k, v, stamp, 0) for k, v in record["metrics"].items()],
                tags=[RunTag(k, v) for k, v in tags.items()])
        # A run marked KILLED by another invocation that then finished keeps no error.
        if record["status"] == FINISHED and "error" in client.get_run(run_id).data.tags:
            client.delete_tag(run_id, "error")
        for path, folder in record["artifacts"]:
            if not os.path.exists(path):
                print(f"tracking: {path} is gone; not logged with {record['run_name']}", flush=True)
                continue
            client.log_artifact(run_id, path, folder)  # the same path again: replaced
            if folder == "figures" and path.endswith(".png") and not _has_image(
                    client, run_id, Path(path).stem):
                with _png_as_is(path) as image:
                    client.log_image(run_id, image, key=Path(path).stem, step=0)
        if record["dataset"] or record["model"]:
            _log_data_and_model(client, run_id, record)
        # last: a record whose end is on its run was logged whole (a retry skips it)
        client.set_tag(run_id, ENDED_TAG, str(record["end_ms"]))
        client.set_terminated(run_id, status=record["status"], end_time=stamp)


@contextmanager
def _png_as_is(path: str):
    """The figure for MlflowClient.log_image (its names and layout, which the UI's Images tab
    reads), without decoding and re-encoding it: saved as PNG it is the file itself, and
    its small preview is resized in reduction steps. log_image re-encoded each figure:
    2.7 of 3.6 s of CPU for the default pipeline's 43 figures."""
    import shutil

    from PIL import PngImagePlugin

    class Figure(PngImagePlugin.PngImageFile):
        def save(self, fp, format=None, **params):
            if isinstance(fp, str | os.PathLike) and str(fp).endswith(".png") and not params:
                shutil.copyfile(path, fp)
            else:
                super().save(fp, format, **params)

        def resize(self, size, *args, **kwargs):
            kwargs.setdefault("reducing_gap", 3.0)
            return super().resize(size, *args, **kwargs)

    image = Figure(path)
    try:
        yield image
    finally:
        image.close()


@contextmanager
def _refusals():
    """Around the calls that send a record's own values (its run, params, metrics, tags): an
    invalid value is that record's fault, to be set aside. Any other failure (a server gone,
    an artifact store that fails) is the store's, and the record waits on disk for it."""
    try:
        yield
    except MlflowException as error:
        if error.error_code != "INVALID_PARAMETER_VALUE":
            raise
        raise RecordProblem(f"MLflow refused it: {error.message}") from error


def _token_hash(record: dict) -> str:
    return hashlib.sha256(record["token"].encode()).hexdigest()


def _has_image(client: MlflowClient, run_id: str, key: str) -> bool:
    """Whether the run has its image `key` already (a retried record logs no second one)."""
    return any(Path(item.path).name.startswith(f"{key}+step+")
               for item in client.list_artifacts(run_id, "images"))


def _job_gone(record: dict) -> bool:
    """This invocation's job is known to have ended: its process, on this host, is gone."""
    process = record["job_process"]
    return process.split(":")[0] == socket.gethostname() and not process_alive(process)


def _log_data_and_model(client: MlflowClient, run_id: str, record: dict) -> None:
    """The dataset input (with its digest) and the trained model, with a signature of the
    data's own column names. Most runs read the same few data files: each is read and
    digested once per process."""
    data = record["dataset"]
    if data:
        from mlflow.entities import DatasetInput, InputTag
        from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

        context = "training" if record["tags"].get("stage") == "train" else "evaluation"
        entity = _dataset_entity(*file_key(data["path"]), data["name"], data["targets"])
        client.log_inputs(run_id, [DatasetInput(entity, [InputTag(MLFLOW_DATASET_CONTEXT,
                                                                   context)])])
    if record["model"]:
        with mlflow.start_run(run_id=run_id):  # model logging needs this thread's active run
            _log_model(record["model"], _frame(*file_key(record["model"]["data"])))


@lru_cache(maxsize=16)
def _frame(path: str, size: int, mtime_ns: int):
    import pandas as pd

    return pd.read_parquet(path)


@lru_cache(maxsize=16)
def _dataset_entity(path: str, size: int, mtime_ns: int, name: str, targets: str):
    from mlflow.data import from_pandas
    from mlflow.data.sources import LocalArtifactDatasetSource

    with warnings.catch_warnings():
        # mlflow's own digest code trips a pandas deprecation, and its schema inference (lazy,
        # in _to_mlflow_entity) hints at integer columns (digits' class labels): not the user's to fix.
        warnings.simplefilter("ignore")
        frame = _frame(path, size, mtime_ns)
        # mlflow's dataset names one target column: a multi-output set's first (y0)
        targets = targets if targets in frame.columns else target_names(frame.columns)[0]
        dataset = from_pandas(frame, source=LocalArtifactDatasetSource(path), name=name,
                              targets=targets)
        return dataset._to_mlflow_entity()  # what mlflow.log_input sends, without an active run


def _log_model(model: dict, frame) -> None:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    from sklandscape.io import TRUSTED_MODEL_TYPES, read_model

    fitted = read_model(model["path"])
    features = frame.drop(columns=target_names(frame.columns)).astype("float64")
    with warnings.catch_warnings():
        # the network was fitted on arrays: named columns only name the signature's inputs
        warnings.simplefilter("ignore")
        signature = infer_signature(features, fitted.predict(features.to_numpy()))
        mlflow.sklearn.log_model(
            fitted,
            name=model["name"],
            signature=signature,
            input_example=features.iloc[:5],
            # explicit requirements: inferring them costs seconds
            pip_requirements=model_requirements(),
            serialization_format="skops",
            skops_trusted_types=TRUSTED_MODEL_TYPES,
        )
