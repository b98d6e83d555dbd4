"""The main process' service that logs the jobs' run records.

Light on purpose (no mlflow at import): the Snakefile reads it while it parses, and the
check that a tracking server answers must come before any job starts, not after mlflow's
2-second import. The service's own process imports mlflow (sklandscape.pipeline.tracking.logger)
while the first jobs already run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sklandscape.pipeline.tracking.records import process_alive, read_records, records_dir
from sklandscape.pipeline.tracking.settings import (
    check_server,
    experiment_name,
    redact,
    tracking_uri,
)


def say(message: str) -> None:
    print(f"tracking: {redact(message)}", file=sys.stderr, flush=True)


class TrackingService:
    """Logs run records while the jobs run, in a process of its own beside the main one.

    start() checks the server, then starts the logging process and returns: it prepares the
    store (marking the runs of dead invocations KILLED, logging their leftover records) and
    then looks for new or ended records every `interval` seconds. close(), once every job has
    ended, has it log what is left, and says what could not be logged (it stays on disk for
    the next start).

    A process, not a thread of the main one: importing mlflow, creating a store and logging
    models is seconds of Python that held the main process' GIL, and Snakemake's scheduler
    waited for it. It runs at the jobs' CPU priority: at nice 10 it fell behind while they
    ran, and its catching up alone on one core after the last job made the default pipeline
    2.6 s slower (28.2 against 25.6 s, three runs each, interleaved).
    """

    def __init__(self, experiment: str | None = None, folder: Path | None = None,
                 interval: float = 0.25):
        self.experiment = experiment or experiment_name()
        self.folder = Path(folder or records_dir())
        self.interval = interval
        self.process: subprocess.Popen | None = None
        self.closed = False

    @property
    def started(self) -> bool:
        return self.process is not None

    def start(self) -> TrackingService:
        check_server()
        arguments = (str(self.folder), self.experiment, self.interval)
        self.process = subprocess.Popen(
            [sys.executable, "-c", f"from {__name__} import serve; serve(*{arguments!r})"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        return self

    def close(self) -> int:
        """Log every record left (all jobs have ended); returns how many could not be."""
        if self.closed:
            return 0
        self.closed = True
        if self.process is None:  # never started (a run with nothing to do): log here
            left = _final_pass(self.folder, self.experiment)
        else:
            try:
                self.process.stdin.write(f"{CLOSE}\n")
                self.process.stdin.close()
            except OSError:  # it is gone already (it says why on stderr)
                pass
            said = self.process.stdout.read().split()
            self.process.wait()
            left = int(said[-1]) if said else len(read_records(self.folder))
        if left:
            say(f"{left} run record(s) could not be logged to {tracking_uri()}; they are kept in "
                f"{self.folder} and logged by the next snakemake run in this directory")
        return left


CLOSE = "close"  # what the main process writes to the logging process once the jobs have ended


def serve(folder: str, experiment: str, interval: float) -> None:
    """The logging process: log records as they come until the main process says CLOSE, then
    log what is left and write how many could not be. If the main process dies instead (its
    pipe closes unsaid), leave: the records stay for the next start."""
    import select

    for signum in (signal.SIGINT, signal.SIGTERM):  # a Ctrl-C is the main process' to handle
        signal.signal(signum, signal.SIG_IGN)
    result = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything mlflow prints goes to stderr; stdout carries only the result
    logger = _connect(Path(folder), experiment)
    while True:
        if select.select([sys.stdin], [], [], interval)[0]:
            if sys.stdin.readline().strip() != CLOSE:
                return  # the main process died: nothing more to do here
            break
        if logger is not None:
            logger.log_pass()
    result.write(f"{_final_pass(Path(folder), experiment, logger)}\n")
    result.flush()


def _connect(folder: Path, experiment: str):
    from sklandscape.pipeline.tracking.logger import RecordLogger

    try:
        return RecordLogger(folder, experiment)
    except Exception as error:  # noqa: BLE001 (said, and retried when the jobs end)
        say(f"the store at {tracking_uri()} cannot be prepared ({error}); the jobs' run "
            f"records stay in {folder} until it can")
        return None


def _final_pass(folder: Path, experiment: str, logger=None) -> int:
    """Log every record left; how many could not be."""
    logger = logger or _connect(folder, experiment)
    return len(read_records(folder)) if logger is None else logger.log_pass(final=True)


def log_leftovers(experiment: str | None = None) -> int:
    """Log what earlier invocations left (a run that had nothing to do calls this at exit).
    The records of an invocation still running (the one holding this directory's lock, when
    this one was refused) are its own to log: with only those there, nothing is done or said."""
    if not [record for _, record in read_records() if not _of_a_live_invocation(record)]:
        return 0
    return TrackingService(experiment).close()


def _of_a_live_invocation(record) -> bool:
    tags = record.get("tags") if isinstance(record, dict) else None
    process = tags.get("invocation_process") if isinstance(tags, dict) else None
    return isinstance(process, str) and process_alive(process)
