"""A job's MLflow run, written down as a record file instead of sent to the store.

A job never imports mlflow (≈ 2 s per process, more than most jobs' work): it writes what
its run holds (params, tags, metrics, artifacts, links to the runs of its inputs, status)
to `<results>/.tracking/<id>.json`, once when it starts and once when it ends, each time
whole and durable (fsync, then rename). The main snakemake process, which has mlflow
loaded once, logs each record as it appears (sklandscape.pipeline.tracking.RecordLogger) and
then deletes it; a record that an interrupted invocation left behind, or that a tracking
server could not take, is logged at the next start. Nothing here imports mlflow.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import stat
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sklandscape.pipeline.tracking.settings import store_id
from sklandscape.provenance import canonical_json, sha256_file, stable_hash

RECORDS_ENV = "SKLANDSCAPE_RUN_RECORDS"  # the folder; the Snakefile sets it, absolute
DEFAULT_RECORDS = "results/.tracking"
# An identifier of one `snakemake` invocation, so a later one can tell its runs apart.
INVOCATION_ENV = "SKLANDSCAPE_INVOCATION"
# "host:pid:start" of that invocation's snakemake process: is it still alive?
INVOCATION_PROCESS_ENV = "SKLANDSCAPE_INVOCATION_PROCESS"
GIT_COMMIT_ENV = "SKLANDSCAPE_GIT_COMMIT"
GIT_DIRTY_ENV = "SKLANDSCAPE_GIT_DIRTY"  # "true": the code differs from that commit
# Why a run ended KILLED when its invocation died (said by the job, or by the next start)
ORPHANED = "its snakemake invocation ended"
MAX_PARAM_LENGTH = 6000  # MLflow's limit on a param value
RUNNING, FINISHED, FAILED, KILLED = "RUNNING", "FINISHED", "FAILED", "KILLED"
STATUSES = (RUNNING, FINISHED, FAILED, KILLED)


def records_dir() -> Path:
    return Path(os.environ.get(RECORDS_ENV) or DEFAULT_RECORDS)


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


def file_identity(path) -> dict[str, str]:
    """A file by content and by place: on a store that several projects share, two of them
    may write byte-identical files, and a run is linked to the run that wrote this
    project's file, not to any run with the same content."""
    return {"sha256": sha256_file(path), "location": stable_hash(os.path.abspath(path))}


def process_key(pid: int | None = None) -> str:
    """'host:pid:start' of a process of this host (this one by default): a pid alone names a
    different process once the kernel reuses it, and /proc/<pid> exists for another process'
    thread too. `start` is the process' start in clock ticks since boot (/proc/<pid>/stat,
    field 22): with the pid, it names one process for as long as the machine runs."""
    pid = os.getpid() if pid is None else pid
    started = _stat(pid)
    return f"{socket.gethostname()}:{pid}:{started[1] if started else ''}".rstrip(":")


def process_alive(process: str) -> bool:
    """Whether 'host:pid:start' names a live process other than this one, on this host.

    An unknown or foreign host counts as gone: a process cannot be shown to be alive there. A
    pid now held by another process (another start time), or by a thread of one, is gone.
    """
    host, pid, start = (process.split(":") + ["", ""])[:3]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    if not start:  # a record of an older version: 'host:pid'
        return pid_alive(int(pid))
    found = _stat(int(pid))
    return found is not None and found[0] not in ("Z", "X") and str(found[1]) == start \
        and _is_process(int(pid))


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, start in clock ticks since boot) of `pid`, or None where there is none."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return fields[0], int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def _is_process(pid: int) -> bool:
    """Whether `pid` is a process (a thread group's leader), not another process' thread."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("Tgid:"):
                    return int(line.split()[1]) == pid
    except (OSError, ValueError):
        return False
    return False


def pid_alive(pid: int) -> bool:
    """Whether process `pid` of this host runs. A zombie does not: it has ended, and stays
    listed only until its parent (or, orphaned, a reaping init) collects it."""
    found = _stat(pid)
    if found is not None:
        return found[0] not in ("Z", "X")
    if os.path.isdir("/proc"):
        return False
    try:  # no /proc: ask the kernel
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def write_record(path: Path, record: dict) -> None:
    """Whole or not at all, and on disk before this returns (a crash loses no run). The folder
    and the file are the user's alone (0700, 0600): a record names the user's files and may
    carry what a job logs."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(record, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


MAX_RECORD_BYTES = 16 * 2**20  # a job's record holds a few kB; anything past this is not one


class Unreadable(str):
    """What read_records gives for a file that is no record at all: why (the logger sets it
    aside, as it does a record that fails its checks)."""


def read_records(folder: Path | None = None) -> list[tuple[Path, Any]]:
    """Every record in the folder, oldest start first, as parsed: the logger checks each
    (tracking.checks) before it trusts any. A record is replaced whole (write_record), so a
    file that is not JSON, too large, or a link is no job's record: it comes back as
    Unreadable, with the reason."""
    folder = folder or records_dir()
    found = []
    for path in folder.glob("*.json") if folder.is_dir() else ():
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:  # logged and deleted meanwhile
            continue
        except OSError as error:
            found.append((path, Unreadable(f"cannot be opened as a file ({error.strerror})")))
            continue
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                found.append((path, Unreadable("not a regular file")))
                continue
            text = handle.read(MAX_RECORD_BYTES + 1)
        if len(text) > MAX_RECORD_BYTES:
            found.append((path, Unreadable(f"larger than {MAX_RECORD_BYTES // 2**20} MB")))
            continue
        try:
            found.append((path, json.loads(text)))
        except ValueError as error:
            found.append((path, Unreadable(f"not JSON ({error})")))
    return sorted(found, key=lambda item: _start(item[1]))


def _start(record) -> float:
    start = record.get("start_ms") if isinstance(record, dict) else None
    return start if type(start) in (int, float) else 0


class RunRecord:
    """What a job script logs, kept in its record: the same calls as an MLflow run's."""

    def __init__(self, stage: str, rule: str, wildcards: dict[str, str], params: dict[str, Any],
                 description: str = "", folder: Path | None = None):
        self.id = uuid.uuid4().hex
        self.path = (folder or records_dir()) / f"{self.id}.json"
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
            tags["git_dirty"] = os.environ.get(GIT_DIRTY_ENV) or "unknown"
        if os.environ.get("SLURM_JOB_ID"):  # a cluster job: which one (sacct, squeue, logs)
            tags["slurm_job_id"] = os.environ["SLURM_JOB_ID"]
        if description:  # MLflow shows this tag as the run's description
            tags["mlflow.note.content"] = description
        self.data: dict[str, Any] = {
            "id": self.id,
            # a secret the logger binds the run to: a record that names this run without it
            # (a forged or replayed one) is refused
            "token": secrets.token_hex(16),
            "store": store_id(),  # logged only into the store the job ran for
            "experiment": os.environ.get("MLFLOW_EXPERIMENT_NAME", ""),
            "run_name": "-".join([rule, *[str(v) for v in wildcards.values()]]),
            "status": RUNNING,
            "start_ms": int(time.time() * 1000),
            "end_ms": None,
            "job_process": process_key(),
            "tags": tags,
            "params": flatten(params),
            "metrics": {},
            "artifacts": [],  # [path, folder]
            "output": None,  # file_identity of the job's main output
            "links": [],  # file identities of its inputs, to find the runs that made them
            "adopt": [],  # file identities of runs to nest under this one
            "dataset": None,
            "model": None,
        }

    def save(self) -> None:
        write_record(self.path, self.data)

    def log_metrics(self, metrics: dict[str, float]) -> None:
        self.data["metrics"].update(
            {metric_key(k): float(v) for k, v in metrics.items() if v is not None})

    def set_tags(self, tags: dict[str, Any]) -> None:
        self.data["tags"].update({k: str(v) for k, v in tags.items()})

    def log_artifact(self, path, folder: str | None = None) -> None:
        """A file to log; a PNG under "figures" is also logged as an MLflow image."""
        self.data["artifacts"].append([os.path.abspath(path), folder])

    def record_output(self, path) -> None:
        """The job's main output, by content and place, so downstream runs find this one."""
        self.data["output"] = file_identity(path)

    def link_to_producer(self, path) -> None:
        """Link this run to the run that wrote `path` as it is now (a tag, and a line of the
        description that links to it)."""
        self.data["links"].append(file_identity(path))

    def adopt(self, paths) -> None:
        """Nest the runs that wrote these files under this one (a gathered landscape's tiles)."""
        self.data["adopt"] += [file_identity(path) for path in paths]

    def log_dataset(self, path, name: str, targets: str = "y") -> None:
        """The data this job read, as an MLflow dataset input (with its digest)."""
        self.data["dataset"] = {"path": os.path.abspath(path), "name": name, "targets": targets}

    def log_sklearn_model(self, model_path, data_path, name: str) -> None:
        """The trained model (its skops file), logged with a signature of named columns."""
        self.data["model"] = {"path": os.path.abspath(model_path),
                              "data": os.path.abspath(data_path), "name": name}

    def end(self, status: str, error: str | None = None) -> None:
        self.data.update(status=status, end_ms=int(time.time() * 1000))
        if error:
            self.data["tags"]["error"] = error[:5000]
        try:
            self.save()
        except OSError as failure:
            # A full disk under the records: the job cannot end as it says. It fails, and its
            # run must say why, not end KILLED as if its process had been lost.
            disk = f"{type(failure).__name__}: {failure} (writing its run record)"
            previous = self.data["tags"].get("error")
            self.data["tags"]["error"] = f"{previous}; {disk}" if previous else disk
            if status == FINISHED:
                self.data["status"] = FAILED
            self._overwrite_in_place()
            raise

    def _overwrite_in_place(self) -> None:
        """The ended record written over the one on disk, in the space that file already has
        (a full disk gives no more): padded with spaces, which JSON allows, and without its
        params, metrics and artifacts where it would not fit otherwise. Left as it was if even
        that does not fit."""
        try:
            size = self.path.stat().st_size
        except OSError:
            return
        text = json.dumps(self.data)
        if len(text.encode()) > size:
            text = json.dumps({**self.data, "params": {}, "metrics": {}, "artifacts": [],
                               "dataset": None, "model": None})
        data = text.encode()
        if len(data) > size:
            return
        try:
            with open(self.path, "r+b") as handle:
                handle.write(data + b" " * (size - len(data)))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError:
            pass


class _Interrupts:
    """Snakemake stops jobs with SIGTERM, and Ctrl-C sends SIGINT to the whole process group;
    both become a KeyboardInterrupt naming the signal, so the run ends KILLED."""

    SAME_SIGNAL_SECONDS = 1.0

    def __init__(self):
        self.reason = ""  # why the job was first interrupted, once it was
        self.ending = False  # its record is being written: later signals must not cut it short
        self.raised_at = -1e9  # when a signal last interrupted the job (monotonic seconds)
        for signum in (signal.SIGTERM, signal.SIGINT):
            try:
                if signal.getsignal(signum) != signal.SIG_IGN:
                    signal.signal(signum, self._handler)
            except ValueError:  # not the main thread
                pass

    def _handler(self, signum, frame):
        # A Ctrl-C can reach a job twice, milliseconds apart: from the terminal (its process
        # group) and as Snakemake's own SIGTERM when it cancels the jobs. The second must not
        # cut short the clean-up the first set off. A later signal interrupts again, since the
        # first may have been swallowed; none cuts short the writing of the record.
        now = time.monotonic()
        if self.ending or now - self.raised_at < self.SAME_SIGNAL_SECONDS:
            return
        self.raised_at = now
        # The job's orphan watch says why it interrupts (sklandscape.pipeline.jobs).
        self.reason = self.reason or (os.environ.pop("SKLANDSCAPE_INTERRUPTED", "")
                                      or signal.Signals(signum).name)
        raise KeyboardInterrupt(self.reason)


@contextmanager
def job_record(
    stage: str, rule: str, wildcards: dict[str, str], params: dict[str, Any],
    description: str = "",
) -> Iterator[RunRecord]:
    """One run record for one job: FAILED (with the error) or KILLED if it does not finish.

    A job that got a stopping signal ends KILLED whatever error it ends with. The interrupt
    does not always survive: raised inside a finaliser or a callback, Python prints
    "Exception ignored" and goes on, and the code it cut short may then fail in its own way
    (matplotlib's savefig, stopped by Ctrl-C, raised "Invalid bounding box" in CI). The job
    was still stopped, not broken, and it must not end as if it had finished either."""
    record = RunRecord(stage, rule, wildcards, params, description)
    interrupts = _Interrupts()
    started = time.perf_counter()
    record.save()  # RUNNING: the run shows up in MLflow while the job computes
    try:
        yield record
    except BaseException as error:
        interrupts.ending = True
        if interrupts.reason or isinstance(error, KeyboardInterrupt):
            reason = interrupts.reason or str(error) or "KeyboardInterrupt"
            record.end(KILLED, f"interrupted ({reason})")
        else:
            record.end(FAILED, f"{type(error).__name__}: {error}")
        raise
    interrupts.ending = True
    if interrupts.reason:  # its interrupt was swallowed, and what it cut short may be incomplete
        record.end(KILLED, f"interrupted ({interrupts.reason})")
        raise KeyboardInterrupt(interrupts.reason)
    record.log_metrics({"job_seconds": time.perf_counter() - started, **process_times()})
    record.end(FINISHED)


def process_times() -> dict[str, float]:
    """This process' own accounting, start-up included (Snakemake's `benchmark:` samples every
    0.5 s and misses a job's start and end): CPU seconds (user + system), peak memory (MB),
    and wall seconds since the process started (Linux; elsewhere not the wall time)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    times = {"job_cpu_seconds": usage.ru_utime + usage.ru_stime,
             "job_max_rss_mb": _peak_rss_mb(usage.ru_maxrss)}
    try:
        started = _started_since_boot()
        with open("/proc/uptime") as uptime:
            now = float(uptime.read().split()[0])
        times["job_process_seconds"] = now - started
    except (OSError, ValueError, IndexError):
        pass
    return times


def _started_since_boot() -> float:
    """When this process started, in seconds since boot (Linux's /proc)."""
    with open("/proc/self/stat") as stat:
        return int(stat.read().rpartition(")")[2].split()[19]) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(ru_maxrss_kb: int) -> float:
    """This process' own peak memory. Linux's ru_maxrss survives fork and exec: a job started
    from a large parent would report at least the parent's. VmHWM is the high-water mark of
    this process' own memory, fresh at exec."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return ru_maxrss_kb / 1024  # elsewhere: kB on Linux-likes, the best there is
