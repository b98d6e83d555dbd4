"""A workflow script's side of the job server (losscape.pipeline.job_server): its first
statement, `hand_over()`, gives the job to a fork of the server and exits with the fork's
status, or returns where no server takes it. Light (the standard library and
run_records): it runs before the imports that the server has already paid for.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys
import time

from losscape.pipeline.run_records import JOB_STARTED_ENV, own_start_stamp, pid_alive

SERVER_ENV = "LOSSCAPE_JOB_SERVER"  # the server's socket, set by the main process
OFF = "0"  # LOSSCAPE_JOB_SERVER=0: every job in its own interpreter (to debug one, say)
HEADER = struct.Struct("!I")  # each message: its length, then that much JSON
in_fork = False  # set in the server's forks: the script runs on there


def hand_over() -> None:
    """The first statement of a workflow script: run the rest in the server's fork and exit
    with its status; or return, where no server takes the job (see the module's docstring)."""
    address = os.environ.get(SERVER_ENV, "")
    if in_fork or address in ("", OFF):
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
                   "cwd": os.getcwd(), "env": {**os.environ, JOB_STARTED_ENV: own_start_stamp()}}
        payload = json.dumps(request).encode()
        socket.send_fds(connection, [HEADER.pack(len(payload)) + payload], [0, 1, 2])
        reply = read_message(replies)
        if reply is None or "pid" not in reply:
            return  # declined (other thread settings): run here
        _forward_signals(reply["pid"])
        outcome = read_message(replies)
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


def _forward_signals(pid: int) -> None:
    def forward(signum, frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)


def _wait_for(pid: int) -> None:
    while pid_alive(pid):
        time.sleep(0.2)


def read_message(stream) -> dict | None:
    """One message from a buffered reader of the connection (the server's two replies may
    come in one read); None at its end."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    payload = stream.read(HEADER.unpack(header)[0])
    return json.loads(payload) if payload else None


def send_message(connection: socket.socket, message: dict) -> None:
    payload = json.dumps(message).encode()
    connection.sendall(HEADER.pack(len(payload)) + payload)
