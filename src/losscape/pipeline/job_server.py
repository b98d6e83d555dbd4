"""A process with the jobs' libraries already imported, that runs each `script:` job in a fork.

Every `script:` job is a new interpreter, and before it does anything it imports numpy,
pandas, pyarrow, matplotlib, scipy, scikit-learn and losscape: 0.6-1 s of CPU per job, paid
26 times in the default pipeline, on the same 2 cores as the work. On a local run the main
snakemake process starts one JobServer, which imports them once; a job's script then hands
itself over on its first line (`hand_over`): it sends the server its script file, working
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
import time
from pathlib import Path

from losscape.pipeline.run_records import JOB_STARTED_ENV

SERVER_ENV = "LOSSCAPE_JOB_SERVER"  # the server's socket, set by the main process
OFF = "0"  # LOSSCAPE_JOB_SERVER=0: every job in its own interpreter (to debug one, say)
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
_HEADER = struct.Struct("!I")
_in_fork = False


def hand_over() -> None:
    """The first statement of a workflow script: run the rest in the server's fork and exit
    with its status; or return, where no server takes the job (see the module's docstring)."""
    address = os.environ.get(SERVER_ENV, "")
    if _in_fork or address in ("", OFF):
        return
    try:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(address)
    except OSError:
        # Not listening: still importing (a job never waits; the first few import for
        # themselves), or gone. This interpreter does the job.
        return
    with connection, connection.makefile("rb") as replies:
        request = {"script": os.path.abspath(sys.argv[0]), "argv": sys.argv,
                   "cwd": os.getcwd(), "env": {**os.environ, JOB_STARTED_ENV: _own_start()}}
        payload = json.dumps(request).encode()
        socket.send_fds(connection, [_HEADER.pack(len(payload)) + payload], [0, 1, 2])
        reply = _read_message(replies)
        if reply is None or "pid" not in reply:
            return  # declined (other thread settings): run here
        _forward_signals(reply["pid"])
        outcome = _read_message(replies)
    sys.stdout.flush()
    sys.stderr.flush()
    if outcome is None:  # the server went away first (its invocation was killed)
        _wait_for(reply["pid"])
        os._exit(1)
    code = outcome["exit"]
    if code < 0:  # the fork died of a signal: so does this process, as Snakemake would see
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        code = 128 - code
    os._exit(code)


def _own_start() -> str:
    """This process' start (seconds since boot) and its CPU so far: the job's run counts them
    (losscape.pipeline.run_records.process_times)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    try:
        with open("/proc/self/stat") as stat:
            ticks = int(stat.read().rpartition(")")[2].split()[19])
        started = ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        started = -1.0
    return f"{started} {usage.ru_utime + usage.ru_stime}"


def _forward_signals(pid: int) -> None:
    def forward(signum, frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)


def _alive(pid: int) -> bool:
    """Running, not a zombie (a fork whose server is gone is one until init reaps it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _wait_for(pid: int) -> None:
    while _alive(pid):
        time.sleep(0.2)


def _read_message(stream) -> dict | None:
    """One message from a buffered reader of the connection (the server's two replies may
    come in one read); None at its end."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    payload = stream.read(_HEADER.unpack(header)[0])
    return json.loads(payload) if payload else None


def _send_message(connection: socket.socket, message: dict) -> None:
    payload = json.dumps(message).encode()
    connection.sendall(_HEADER.pack(len(payload)) + payload)


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
            importlib.import_module(later.pop(0))
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
    """Fork the job's child; 0 where the job is declined or its request is broken."""
    connection.settimeout(5.0)  # a request comes at once, whole
    try:
        message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
        while len(message) < _HEADER.size or \
                len(message) < _HEADER.size + _HEADER.unpack_from(message)[0]:
            chunk = connection.recv(1 << 20)
            if not chunk:
                raise OSError("the job's process went away")
            message += chunk
    except OSError:
        return 0
    connection.settimeout(None)
    request = json.loads(message[_HEADER.size:])
    env = request["env"]
    if any(env.get(name) != os.environ.get(name) for name in IMPORT_TIME_ENV):
        _send_message(connection, {"declined": "thread settings"})
        for fd in fds:
            os.close(fd)
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
    _send_message(connection, {"pid": pid})
    return pid


def _run_job(request: dict, fds: list[int], selector) -> None:
    global _in_fork
    import runpy
    import traceback

    _in_fork = True
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
            _send_message(connection, {"exit": os.waitstatus_to_exitcode(status)})
        except OSError:
            pass
        connection.close()
