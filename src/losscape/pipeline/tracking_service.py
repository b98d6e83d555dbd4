"""Where runs go, and the main process' service that logs the jobs' run records there.

Light on purpose (no mlflow at import): the Snakefile reads it while it parses, and the
check that a tracking server answers must come before any job starts, not after mlflow's
2-second import. The service's thread imports mlflow (losscape.pipeline.tracking) while the
first jobs already run.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from losscape.pipeline.run_records import read_records, records_dir

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_EXPERIMENT = "losscape"

# MLflow retries a request to a tracking server 7 times with a doubling wait (254 s in all)
# before it fails; the logging service would then hang for minutes after the server is gone.
# Unless the user chose otherwise: 2 retries, 1 s and 2 s apart, 10 s per request.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
                 "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                 "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
for _name, _value in HTTP_DEFAULTS.items():
    os.environ.setdefault(_name, _value)
# mlflow prints "View run … at: <url>" for every run it ends on a server: 30 lines of noise in
# snakemake's output (the docs say how to find a run).
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
HEALTH_TIMEOUT = 5.0


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def experiment_name() -> str:
    return os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT


def check_server(uri: str | None = None) -> None:
    """A tracking server must answer its /health within HEALTH_TIMEOUT seconds: a clear error
    before any job starts, not minutes of retries later. Local stores pass."""
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


def say(message: str) -> None:
    print(f"tracking: {message}", file=sys.stderr, flush=True)


class TrackingService:
    """Logs run records while the jobs run: a daemon thread of the main snakemake process.

    start() checks the server, then returns at once; the thread prepares the store (marking
    the runs of dead invocations KILLED, logging their leftover records) and then looks for
    new or ended records every `interval` seconds. close(), once every job has ended, logs
    what is left and says what could not be logged (it stays on disk for the next start).
    """

    def __init__(self, experiment: str | None = None, folder: Path | None = None,
                 interval: float = 0.25):
        self.experiment = experiment or experiment_name()
        self.folder = Path(folder or records_dir())
        self.interval = interval
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.logger = None
        self.closed = False

    def start(self) -> TrackingService:
        check_server()
        self.thread = threading.Thread(target=self._serve, name="losscape-tracking", daemon=True)
        self.thread.start()
        return self

    def _connect(self):
        from losscape.pipeline.tracking import RecordLogger

        try:
            self.logger = RecordLogger(self.folder, self.experiment)
        except Exception as error:  # noqa: BLE001 (said, and retried when the jobs end)
            say(f"the store at {tracking_uri()} cannot be prepared ({error}); the jobs' run "
                f"records stay in {self.folder} until it can")
        return self.logger

    def _serve(self) -> None:
        _yield_to_jobs()
        if self._connect() is None:
            return
        while not self.stopping.wait(self.interval):
            self.logger.log_pass()

    def close(self) -> int:
        """Log every record left (all jobs have ended); returns how many could not be."""
        if self.closed:
            return 0
        self.closed = True
        self.stopping.set()
        if self.thread is not None:
            self.thread.join()
        logger = self.logger or self._connect()
        left = len(read_records(self.folder)) if logger is None else logger.log_pass(final=True)
        if left:
            say(f"{left} run record(s) could not be logged to {tracking_uri()}; they are kept in "
                f"{self.folder} and logged by the next snakemake run in this directory")
        return left


def _yield_to_jobs() -> None:
    """Lower this thread's CPU priority (Linux: a thread has its own nice value): logging is
    not on the pipeline's critical path, the jobs are. It then logs on cores the jobs leave
    idle, and close() catches up at full priority from the main thread."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):  # elsewhere: the thread keeps the process' priority
        pass


def log_leftovers(experiment: str | None = None) -> int:
    """Log what earlier invocations left (a run that had nothing to do calls this at exit)."""
    if not read_records():
        return 0
    return TrackingService(experiment).close()
