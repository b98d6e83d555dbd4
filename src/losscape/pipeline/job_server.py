"""A process with the jobs' libraries already imported, that runs each `script:` job in a fork.

Every `script:` job is a new interpreter, and before it does anything it imports numpy,
pandas, pyarrow, matplotlib, scipy, scikit-learn and losscape: 0.6-1 s of CPU per job, paid
26 times in the default pipeline, on the same 2 cores as the work. On a local run the main
snakemake process starts one JobServer, which imports them once; a job's script then hands
itself over on its first line (losscape.pipeline.job_handover.hand_over): it sends the server its script file, working
directory, environment and standard streams over a Unix socket, a fork of the server runs the
same file (Snakemake's preamble in it rebuilds the same `snakemake` object), and the script's
own process waits and leaves with the fork's exit status. SIGINT and SIGTERM sent to it are
passed on; if it dies, the server stops the fork (its run ends KILLED).

Where no server answers (still importing, a job with other thread settings, or none: a
cluster executor starts none, its jobs run on their nodes), `hand_over` returns and the
script runs in its own interpreter, as it always did.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import struct
import sys
import tempfile
from pathlib import Path

from losscape.pipeline import job_handover
from losscape.pipeline.job_handover import HEADER, OFF, SERVER_ENV, send_message

# A server imports for about 2 s of CPU (the first 0.7 s before it takes a job), on the cores
# the first jobs use; a job in its own interpreter imports for 0.6-1.2 s. A run of fewer jobs
# than this does better without one (a single 1001² landscape: 1.4 s alone, 2.2 s beside a
# server importing).
MIN_JOBS = 4
# Libraries read these once, at import: a job whose values differ runs in its own interpreter.
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")  # Snakemake sets them per job
IMPORT_TIME_ENV = (*THREAD_ENV, "MPLBACKEND", "MPLCONFIGDIR")
# What the workflow's scripts import, up front or inside the stages they call: what every
# job needs before the server listens, the rest while it has no job to start (a fork made
# before then imports what it lacks itself).
PRELOADED_FIRST = ("numpy", "pandas", "pyarrow.parquet", "matplotlib.pyplot",
                   "losscape.pipeline.jobs", "losscape.pipeline.stages",
                   "losscape.pipeline.figure_stages")
PRELOADED_LATER = ("sklearn.neural_network", "sklearn.model_selection", "sklearn.preprocessing",
                   "sklearn.datasets", "losscape.model.training", "skops.io",
                   "losscape.pipeline.page_stages", "losscape.pipeline.direction_stages",
                   "scipy.optimize", "scipy.sparse.linalg", "scipy.linalg",
                   "losscape.pipeline.analysis_stages", "losscape.api.analysis_plots",
                   "losscape.pipeline.descriptions", "losscape.pipeline.software_versions",
                   "threadpoolctl", "contourpy", "PIL.PngImagePlugin")


class JobServer:
    """Started by the main process (`start`), closed when the jobs have ended (`close`)."""

    def __init__(self):
        self.folder: Path | None = None
        self.address = ""
        self.process = None

    def start(self, planned_jobs: int | None = None) -> JobServer:
        """Start the server, unless it is switched off or the run plans fewer than MIN_JOBS
        script jobs (None: not known)."""
        import subprocess

        if os.environ.get(SERVER_ENV) == OFF:
            return self
        if planned_jobs is not None and planned_jobs < MIN_JOBS:
            return self
        # A short path of its own: a Unix socket's path has at most 107 bytes.
        self.folder = Path(tempfile.mkdtemp(prefix="losscape-jobs-"))
        self.address = str(self.folder / "socket")
        # The server's own environment is the jobs' (Snakemake gives a one-thread job these).
        env = {**os.environ, **dict.fromkeys(THREAD_ENV, "1")}
        self.process = subprocess.Popen(
            [sys.executable, "-c", f"from {__name__} import serve; serve({self.address!r})"],
            env=env, stdin=subprocess.DEVNULL)
        os.environ[SERVER_ENV] = self.address
        return self

    def close(self) -> None:
        if self.process is None:
            return
        os.environ.pop(SERVER_ENV, None)
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait()
        self.process = None
        Path(self.address).unlink(missing_ok=True)
        Path(self.address + ".tmp").unlink(missing_ok=True)
        self.folder.rmdir()


def serve(address: str) -> None:
    """The server's loop: import, listen, fork a child per job, report each child's exit."""
    import gc
    import importlib

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the jobs; the main stops this
    parent = os.getppid()
    for name in PRELOADED_FIRST:
        importlib.import_module(name)
    _warm_up()
    later = list(PRELOADED_LATER)
    gc.collect()
    gc.freeze()  # the forks then leave the imported objects' pages shared
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address + ".tmp")
    listener.listen(64)
    os.replace(address + ".tmp", address)  # listening before a job can connect
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wake_read, selectors.EVENT_READ, "child")
    forks: dict[int, socket.socket] = {}
    while os.getppid() == parent:
        ready = selector.select(timeout=0 if later else 1.0)
        if not ready and later:  # nothing to start: import the next library
            try:
                importlib.import_module(later.pop(0))
            except Exception:  # noqa: BLE001 (not installed: a fork that needs it says so)
                pass
            if not later:
                gc.collect()
                gc.freeze()
        for key, _ in ready:
            if key.data == "accept":
                connection, _ = listener.accept()
                pid = _start_fork(connection, listener, selector, forks)
                if pid:
                    forks[pid] = connection
                    selector.register(connection, selectors.EVENT_READ, pid)
                else:
                    connection.close()
            elif key.data == "child":  # a fork ended: reaped below
                _drain(wake_read)
            else:  # the job's own process died (a kill -9): stop its fork
                selector.unregister(key.fileobj)
                _kill(key.data)
        _reap(forks, selector)


def _start_fork(connection, listener, selector, forks) -> int:
    """Fork the job's child; 0 where the job is declined or its request is broken (the
    job's process then runs it itself, or is gone). Never raises: the server serves on."""
    connection.settimeout(5.0)  # a request comes at once, whole
    fds: list[int] = []
    try:
        message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
        while len(message) < HEADER.size or \
                len(message) < HEADER.size + HEADER.unpack_from(message)[0]:
            chunk = connection.recv(1 << 20)
            if not chunk:
                raise OSError("the job's process went away")
            message += chunk
        connection.settimeout(None)
        request = json.loads(message[HEADER.size:])
        env = request["env"]
        if len(fds) != 3:
            raise ValueError("a request without its three standard streams")
    except (OSError, ValueError, KeyError, struct.error):
        for fd in fds:
            os.close(fd)
        return 0
    if any(env.get(name) != os.environ.get(name) for name in IMPORT_TIME_ENV):
        for fd in fds:
            os.close(fd)
        try:
            send_message(connection, {"declined": "thread settings"})
        except OSError:
            pass
        return 0
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        # The fork keeps no socket of the server's: a job's process must see the server go.
        for other in (listener, connection, *forks.values()):
            other.close()
        _run_job(request, fds, selector)  # never returns
    for fd in fds:
        os.close(fd)
    try:
        send_message(connection, {"pid": pid})
    except OSError:  # the job's process is gone already: so goes its fork
        _kill(pid)
    return pid


def _run_job(request: dict, fds: list[int], selector) -> None:
    import runpy
    import traceback

    job_handover.in_fork = True
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        selector.close()
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None  # TMPDIR may be the job's own
        sys.argv = request["argv"]
        runpy.run_path(request["script"], run_name="__main__")
        code = 0
    except SystemExit as end:
        code = end.code if isinstance(end.code, int) else (0 if end.code is None else 1)
    except BaseException:  # noqa: BLE001 (as the interpreter would: traceback, status 1)
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _warm_up() -> None:
    """Draw and save one small figure: fonts, the Agg renderer and the PNG writer are then
    loaded once here, not in every job."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(2, 2))
    filled = axes.contourf([[0, 1], [1, 2]])
    axes.set_title("warm-up $x^2$")
    figure.colorbar(filled, ax=axes)
    figure.savefig(io.BytesIO(), format="png")
    plt.close(figure)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def _reap(forks: dict[int, socket.socket], selector) -> None:
    while forks:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        connection = forks.pop(pid, None)
        if connection is None:
            continue
        try:
            selector.unregister(connection)
        except (KeyError, ValueError):
            pass
        try:
            send_message(connection, {"exit": os.waitstatus_to_exitcode(status)})
        except OSError:
            pass
        connection.close()
