"""MLflow: one run per pipeline job. The only module that imports mlflow.

Where runs go is the environment's business, not the config's: MLFLOW_TRACKING_URI
(default sqlite:///mlflow.db in the working directory) and MLFLOW_EXPERIMENT_NAME,
which the Snakefile sets from config. Neither is a rule param, so moving the store
reruns nothing.
"""

from __future__ import annotations

import math
import os
import re
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import mlflow
from mlflow.entities import RunStatus
from mlflow.tracking import MlflowClient

from losscape.io import TRUSTED_MODEL_TYPES
from losscape.pipeline.periodic import Periodic
from losscape.provenance import canonical_json, sha256_file, stable_hash

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_EXPERIMENT = "losscape"
# An identifier of one `snakemake` invocation, so a later one can tell its runs apart.
INVOCATION_ENV = "LOSSCAPE_INVOCATION"
# "host:pid" of that invocation's snakemake process: is it still alive?
INVOCATION_PROCESS_ENV = "LOSSCAPE_INVOCATION_PROCESS"
GIT_COMMIT_ENV = "LOSSCAPE_GIT_COMMIT"
OUTPUT_TAG = "output_sha256"
# Where the output lives (a hash of its absolute path): on a store that several projects
# share, two of them may write byte-identical files; a run is linked to the run that wrote
# this project's file, not to any run with the same content.
OUTPUT_LOCATION_TAG = "output_location"
MAX_PARAM_LENGTH = 6000  # MLflow's limit on a param value


# MLflow retries a request to a tracking server 7 times with a doubling wait (254 s in all)
# before it fails; a job then computes in silence for minutes after the server is gone.
# Unless the user chose otherwise: 2 retries, 1 s and 2 s apart, 10 s per request.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
                 "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                 "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
for _name, _value in HTTP_DEFAULTS.items():
    os.environ.setdefault(_name, _value)  # the jobs inherit them from the main process
HEALTH_TIMEOUT = 5.0


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def check_server(uri: str | None = None) -> None:
    """A tracking server must answer its /health within HEALTH_TIMEOUT seconds: a clear error
    now, instead of every job retrying for minutes. Local stores pass."""
    import urllib.error
    import urllib.request

    uri = uri or tracking_uri()
    if not uri.startswith(("http://", "https://")):
        return
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=HEALTH_TIMEOUT):
            return
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):  # it answers, and asks for credentials: MLflow's to send
            return
        problem = f"HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError) as error:
        problem = str(getattr(error, "reason", error))
    raise RuntimeError(
        f"MLFLOW_TRACKING_URI={uri}: the tracking server does not answer ({problem}) within "
        f"{HEALTH_TIMEOUT:g} s. Start it (mlflow server ...), fix the address, or unset "
        f"MLFLOW_TRACKING_URI to use the local store sqlite:///mlflow.db")


def experiment_name() -> str:
    return os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT


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
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
        found = client.get_experiment_by_name(name)  # a new SQLite store is created here
        experiment_id = found.experiment_id if found else client.create_experiment(name)
    this_invocation = os.environ.get(INVOCATION_ENV, "")
    stale = client.search_runs(
        [experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=10000
    )
    for run in stale:
        tags = run.data.tags
        if tags.get("invocation") == this_invocation:
            continue
        if invocation_alive(tags.get("invocation_process", "")) or beating(run):
            print(f"tracking: run {run.info.run_id} ({run.info.run_name}) belongs to a snakemake "
                  f"invocation still running ({tags.get('invocation_process') or 'unknown'}); "
                  f"left RUNNING")
            continue
        client.set_tag(run.info.run_id, "error", "interrupted: its snakemake invocation ended")
        client.set_terminated(run.info.run_id, status="KILLED")
    return experiment_id


# A job's run sets its `heartbeat` tag (Unix seconds) this often; a run of another machine
# whose last beat (or start, before its first) is older than the grace is taken as dead.
HEARTBEAT_SECONDS = 30.0
HEARTBEAT_GRACE = 150.0
HEARTBEAT_TAG = "heartbeat"


def beating(run, now: float | None = None) -> bool:
    """Whether a run of another machine has shown life within HEARTBEAT_GRACE seconds.

    On this host the process check (invocation_alive) decides; a run that names no process
    (an older version's) counts only by its heartbeat.
    """
    tags = run.data.tags
    process = tags.get("invocation_process", "")
    if process and process.rpartition(":")[0] == socket.gethostname():
        return False
    now = time.time() if now is None else now
    try:
        last = float(tags[HEARTBEAT_TAG])
    except (KeyError, ValueError):
        last = run.info.start_time / 1000 if process else -math.inf
    return now - last < HEARTBEAT_GRACE


def _heartbeat(client: MlflowClient, run_id: str) -> Periodic:
    """Sets the run's heartbeat tag every HEARTBEAT_SECONDS while the job runs; a failed
    beat is skipped, never fatal."""
    def beat() -> None:
        try:
            client.set_tag(run_id, HEARTBEAT_TAG, f"{time.time():.0f}")
        except Exception:  # noqa: BLE001 (a store busy for a moment: the next beat)
            pass

    return Periodic(HEARTBEAT_SECONDS, beat, "heartbeat")


def _location(path) -> str:
    return stable_hash(os.path.abspath(path))


def invocation_alive(process: str) -> bool:
    """Whether 'host:pid' names a live process other than this one, on this host.

    An unknown or foreign host counts as gone: a run cannot be shown to be alive there.
    """
    host, _, pid = process.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def metric_key(name: str) -> str:
    """MLflow keys allow only [\\w-. :/]: 'argmin_W1[0,0]' becomes 'argmin_W1_0_0'."""
    return re.sub(r"[^\w\-. :/]", "_", name.replace("]", "")).strip("_")


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Nested params as dotted keys: {'network': {'alpha': 0}} -> {'network.alpha': '0'}."""
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            out.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    text = value if isinstance(value, str) else canonical_json(value)
    return {metric_key(prefix): text[:MAX_PARAM_LENGTH]}


class JobRun:
    """The handle a job script gets: log metrics, artifacts, inputs and its model."""

    def __init__(self, run_id: str, client: MlflowClient):
        self.run_id = run_id
        self.client = client

    def log_metrics(self, metrics: dict[str, float]) -> None:
        clean = {metric_key(k): float(v) for k, v in metrics.items() if v is not None}
        mlflow.log_metrics(clean)

    def set_tags(self, tags: dict[str, Any]) -> None:
        mlflow.set_tags({k: str(v) for k, v in tags.items()})

    def log_artifact(self, path, folder: str | None = None) -> None:
        """Log a file; a PNG figure also as an MLflow image (key: its file name), which the
        run page's image views show (a file alone only in the artifact browser)."""
        mlflow.log_artifact(str(path), artifact_path=folder)
        if folder == "figures" and str(path).endswith(".png"):
            from pathlib import Path

            from PIL import Image

            with Image.open(path) as image:
                mlflow.log_image(image, key=Path(path).stem, step=0)

    def record_output(self, path) -> None:
        """Tag the job's main output by content and place, so downstream runs find this one."""
        mlflow.set_tags({OUTPUT_TAG: sha256_file(path), OUTPUT_LOCATION_TAG: _location(path)})

    def producer_of(self, path) -> str | None:
        """The id of the latest run that wrote `path` as it is now (its place and content)."""
        found = self.client.search_runs(
            [mlflow.active_run().info.experiment_id],
            filter_string=f"tags.{OUTPUT_TAG} = '{sha256_file(path)}' and "
                          f"tags.{OUTPUT_LOCATION_TAG} = '{_location(path)}'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        return found[0].info.run_id if found else None

    def link_to_producer(self, path, nest: bool = True) -> str | None:
        """Tag (and by default nest) this run with the run whose main output is `path`."""
        parent = self.producer_of(path)
        if parent is None:
            print(f"tracking: no run in this store produced {path}; not linked")
            return None
        mlflow.set_tag("upstream_run_id", parent)
        if nest:
            mlflow.set_tag("mlflow.parentRunId", parent)
        return parent

    def adopt(self, run_ids) -> None:
        """Nest the given runs under this one (a gathered landscape's tiles)."""
        for run_id in run_ids:
            self.client.set_tag(run_id, "mlflow.parentRunId", self.run_id)

    def log_sklearn_model(self, model, X_example, name: str = "model") -> None:
        import mlflow.sklearn
        from mlflow.models import infer_signature

        signature = infer_signature(X_example, model.predict(X_example))
        mlflow.sklearn.log_model(
            model,
            name=name,
            signature=signature,
            input_example=X_example[:5],
            # explicit requirements: inferring them costs seconds per job
            pip_requirements=model_requirements(),
            serialization_format="skops",
            skops_trusted_types=TRUSTED_MODEL_TYPES,
        )

    def log_dataset(self, frame, source: str, name: str, targets: str = "y") -> None:
        import warnings
        from pathlib import Path

        import mlflow.data
        from mlflow.data.sources import LocalArtifactDatasetSource

        # A typed source: a bare path string makes mlflow guess among sources and warn.
        local = LocalArtifactDatasetSource(str(Path(source).resolve()))
        with warnings.catch_warnings():
            # mlflow's own digest code trips a pandas 4 deprecation; not ours to fix.
            warnings.filterwarnings("ignore", message=".*keyword-only.*")
            dataset = mlflow.data.from_pandas(frame, source=local, name=name, targets=targets)
        mlflow.log_input(dataset, context="training")


def model_requirements() -> list[str]:
    """Pinned versions of what loading the logged model needs, read from this environment."""
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in ("scikit-learn", "numpy", "scipy", "skops")]


def _interrupt_on_signals():
    # Snakemake stops jobs with SIGTERM, and Ctrl-C sends SIGINT to the whole process
    # group; both become a KeyboardInterrupt naming the signal, so the run ends KILLED.
    def handler(signum, frame):
        # The job's orphan watch says why it interrupts (losscape.pipeline.jobs).
        raise KeyboardInterrupt(os.environ.pop("LOSSCAPE_INTERRUPTED", "")
                                or signal.Signals(signum).name)

    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            if signal.getsignal(signum) != signal.SIG_IGN:
                signal.signal(signum, handler)
        except ValueError:  # not the main thread
            pass


@contextmanager
def job_run(
    stage: str, rule: str, wildcards: dict[str, str], params: dict[str, Any],
    description: str = "",
) -> Iterator[JobRun]:
    """One MLflow run for one job; FAILED (with the error) or KILLED if the job does not finish."""
    client = _client()
    experiment = mlflow.set_experiment(experiment_name())
    run_name = "-".join([rule, *[str(v) for v in wildcards.values()]])
    tags = {
        "stage": stage,
        "rule": rule,
        "params_hash": stable_hash(params),
        "invocation": os.environ.get(INVOCATION_ENV, ""),
        "invocation_process": os.environ.get(INVOCATION_PROCESS_ENV, ""),
        **{k: str(v) for k, v in wildcards.items()},
    }
    if os.environ.get(GIT_COMMIT_ENV):
        tags["git_commit"] = os.environ[GIT_COMMIT_ENV]
    if description:  # MLflow shows this tag as the run's description
        tags["mlflow.note.content"] = description
    _interrupt_on_signals()
    started = time.perf_counter()
    run = mlflow.start_run(experiment_id=experiment.experiment_id, run_name=run_name, tags=tags)
    try:
        mlflow.log_params(flatten(params))
        with _heartbeat(client, run.info.run_id):
            yield JobRun(run.info.run_id, client)
    except KeyboardInterrupt as error:
        mlflow.set_tag("error", f"interrupted ({error or 'KeyboardInterrupt'})")
        mlflow.end_run(RunStatus.to_string(RunStatus.KILLED))
        raise
    except BaseException as error:
        mlflow.set_tag("error", f"{type(error).__name__}: {error}"[:5000])
        mlflow.end_run(RunStatus.to_string(RunStatus.FAILED))
        raise
    else:
        mlflow.log_metric("job_seconds", time.perf_counter() - started)
        mlflow.end_run()


def runs(experiment: str | None = None) -> list:
    """Every run of the experiment (for tests and reports)."""
    client = _client()
    found = client.get_experiment_by_name(experiment or experiment_name())
    if found is None:
        return []
    return client.search_runs([found.experiment_id], max_results=50000)
