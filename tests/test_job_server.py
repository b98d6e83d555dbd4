"""The job server (losscape.pipeline.job_server, job_handover), with real processes: a
server started as the Snakefile starts it, and scripts that hand themselves over as the
workflow's do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from losscape.pipeline import job_server
from losscape.pipeline.job_handover import SERVER_ENV
from losscape.pipeline.job_server import THREAD_ENV, JobServer
from losscape.pipeline.run_records import pid_alive

SCRIPT = textwrap.dedent("""
    import json, os, signal, sys, time
    from losscape.pipeline import job_handover

    job_handover.hand_over()
    report = {"in_fork": job_handover.in_fork, "pid": os.getpid(), "parent": os.getppid(),
              "cwd": os.getcwd(), "value": os.environ.get("LOSSCAPE_TEST_VALUE"),
              "argv": sys.argv[1:], "numpy_preloaded": "numpy" in sys.modules}
    print(json.dumps(report), flush=True)
    what = os.environ.get("LOSSCAPE_TEST_DO", "")
    if what == "fail":
        raise ValueError("a job that fails")
    if what.startswith("exit"):
        sys.exit(int(what[4:]))
    if what == "wait":
        def on_term(signum, frame):
            open(os.environ["LOSSCAPE_TEST_MARK"], "w").write(signal.Signals(signum).name)
            sys.exit(7)
        signal.signal(signal.SIGTERM, on_term)
        open(os.environ["LOSSCAPE_TEST_MARK"] + ".started", "w").write(str(os.getpid()))
        time.sleep(60)
""")


@pytest.fixture(scope="module")
def server():
    started = JobServer().start()
    address = started.address
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(address):  # listening once its imports are done
            assert started.process.poll() is None, "the job server died while importing"
            assert time.monotonic() < deadline, "the job server did not listen within 60 s"
            time.sleep(0.1)
        yield started
    finally:
        started.close()
    assert not Path(address).exists() and started.process is None


def job_env(server: JobServer | None, **extra: str) -> dict[str, str]:
    """A job's environment, as Snakemake gives a one-thread job."""
    env = {k: v for k, v in os.environ.items() if k != SERVER_ENV}
    env.update(dict.fromkeys(THREAD_ENV, "1"), **extra)
    if server is not None:
        env[SERVER_ENV] = server.address
    return env


def run_script(tmp_path: Path, env: dict, *args: str, **popen) -> subprocess.CompletedProcess:
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    return subprocess.run([sys.executable, str(script), *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, **popen)


def report(done: subprocess.CompletedProcess) -> dict:
    return json.loads(done.stdout.strip().splitlines()[0])


def test_a_job_runs_in_a_fork_of_the_server_with_its_own_directory_env_and_arguments(
        server, tmp_path):
    done = run_script(tmp_path, job_env(server, LOSSCAPE_TEST_VALUE="mine"), "a", "b")
    assert done.returncode == 0, done.stderr
    seen = report(done)
    assert seen["in_fork"] and seen["parent"] == server.process.pid
    assert seen["numpy_preloaded"]  # imported once, by the server
    assert seen["cwd"] == str(tmp_path) and seen["value"] == "mine"
    assert seen["argv"] == ["a", "b"]


@pytest.mark.parametrize("code", [0, 3])
def test_the_exit_status_is_the_job_s(server, tmp_path, code):
    done = run_script(tmp_path, job_env(server, LOSSCAPE_TEST_DO=f"exit{code}"))
    assert report(done)["in_fork"]
    assert done.returncode == code


def test_a_failing_job_prints_its_traceback_to_the_script_s_stderr_and_fails(server, tmp_path):
    done = run_script(tmp_path, job_env(server, LOSSCAPE_TEST_DO="fail"))
    assert report(done)["in_fork"]
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "ValueError: a job that fails" in done.stderr


def start_waiting_job(server, tmp_path):
    mark = tmp_path / "mark"
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    process = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path,
                               env=job_env(server, LOSSCAPE_TEST_DO="wait",
                                           LOSSCAPE_TEST_MARK=str(mark)),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = Path(f"{mark}.started")
    deadline = time.monotonic() + 30
    while not started.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return process, mark, int(started.read_text())


def test_a_signal_to_the_script_s_process_reaches_the_job(server, tmp_path):
    """Snakemake stops a job by signalling the process it started: the fork gets it."""
    process, mark, fork = start_waiting_job(server, tmp_path)
    assert fork != process.pid
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 7  # the job's own handler ran, and its status came back
    assert mark.read_text() == "SIGTERM"


def test_a_script_process_killed_outright_takes_its_job_with_it(server, tmp_path):
    """kill -9 of the process Snakemake started: the server sees its connection close and
    stops the fork, which ends the way a stopped job ends (here: its SIGTERM handler)."""
    process, mark, fork = start_waiting_job(server, tmp_path)
    process.kill()
    process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while pid_alive(fork):
        assert time.monotonic() < deadline, "the fork outlived its script's process"
        time.sleep(0.05)
    assert mark.read_text() == "SIGTERM"


def test_a_job_with_other_thread_settings_runs_in_its_own_interpreter(server, tmp_path):
    """numpy's BLAS read OPENBLAS_NUM_THREADS when the server imported it: a two-thread job
    would get one thread there, so the server declines it."""
    done = run_script(tmp_path, job_env(server, OPENBLAS_NUM_THREADS="2"))
    assert done.returncode == 0, done.stderr
    assert not report(done)["in_fork"]


@pytest.mark.parametrize("address", ["", "0", "/nonexistent/losscape-jobs/socket"])
def test_without_a_server_a_job_runs_in_its_own_interpreter(tmp_path, address):
    env = job_env(None, LOSSCAPE_TEST_DO="exit5")
    env[SERVER_ENV] = address
    done = run_script(tmp_path, env)
    assert not report(done)["in_fork"] and report(done)["parent"] == os.getpid()
    assert done.returncode == 5


def test_switched_off_no_server_starts(monkeypatch):
    monkeypatch.setenv(SERVER_ENV, "0")
    off = JobServer().start()
    assert off.process is None and os.environ[SERVER_ENV] == "0"
    off.close()


def test_a_run_of_few_jobs_starts_no_server(monkeypatch):
    monkeypatch.delenv(SERVER_ENV, raising=False)
    few = JobServer().start(planned_jobs=job_server.MIN_JOBS - 1)
    assert few.process is None and SERVER_ENV not in os.environ
    few.close()


def test_a_zombie_is_not_alive():
    """An ended process not yet collected by its parent (as a fork is, for a moment, once its
    server is gone) is not waited for, nor taken for a live invocation."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while Path(f"/proc/{ended.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert not pid_alive(ended.pid)
    ended.wait()
    assert not pid_alive(ended.pid) and pid_alive(os.getpid())
