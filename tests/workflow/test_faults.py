"""Faults: a job that raises, Ctrl-C, a hard kill, half-written files; for real.

Real Snakemake runs on a small config, a real MLflow SQLite store read back with sqlite3,
real Parquet files. Nothing is mocked: the failing job fails because its artifact store
really is unusable, and the interruptions are real signals to the process group.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from sklandscape import io
from sklandscape.pipeline.tracking.logger import prepare_store
from sklandscape.pipeline.tracking.records import (
    INVOCATION_ENV,
    INVOCATION_PROCESS_ENV,
    RECORDS_ENV,
    RunRecord,
    job_record,
    read_records,
)
from workflow_support import make_workspace, snakemake

# One dataset, one network, two landscapes: 9 jobs, each a few seconds.
FAULT_CONFIG = {
    "experiment": "sklandscape-faults",
    "datasets": {
        "curve": {"function": "sine", "n_samples": 40, "domain": [[-3.14159, 3.14159]],
                  "sampling": "grid"},
    },
    "networks": {
        "N1": {"dataset": "curve", "hidden_layer_sizes": [2], "max_iter": 300},
        # a job of several seconds (its 64 x 64 network diagram), for the signals to land in
        "N_slow": {"dataset": "curve", "hidden_layer_sizes": [64, 64], "solver": "adam",
                   "max_iter": 3000, "tol": 1e-12},
    },
    "landscapes": {
        "N1_one": {"network": "N1", "kind": "weights", "axes": ["W1[0,0]", "W2[0,0]"],
                   "span": 2.0, "resolution": 7, "samples": [10]},
        "N1_all": {"network": "N1", "kind": "weights", "axes": ["b1[0]", "W2[1,0]"],
                   "span": 1.0, "resolution": 9},
    },
}

# The jobs the interruption tests run (as MLflow run names) and the files each makes:
# enough for two jobs at a time and a few seconds of work, not the whole pipeline.
OUTPUTS = {
    "data-curve": ["data/curve.parquet", "figures/dataset_curve.png"],
    "train-N1": ["models/N1/model.skops", "models/N1/weights.parquet", "figures/network_N1.png",
                 "figures/fit_N1.png"],
    "train-N_slow": ["models/N_slow/model.skops", "models/N_slow/weights.parquet",
                     "figures/network_N_slow.png", "figures/fit_N_slow.png"],
    "landscape-N1_one": ["landscapes/N1_one.parquet", "figures/landscape_N1_one.png"],
    "landscape-N1_all": ["landscapes/N1_all.parquet", "figures/landscape_N1_all.png"],
}
RECORDS = Path("results") / ".tracking"
TARGETS = [f"results/{f}" for files in OUTPUTS.values() for f in files]


def store_runs(root: Path) -> list[tuple[str, str, str]]:
    """(run name, status, error tag) of every run, read straight from the SQLite file."""
    db = root / "mlflow.db"
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as connection:
        try:
            rows = connection.execute(
                "SELECT r.name, r.status, t.value FROM runs r LEFT JOIN tags t "
                "ON t.run_uuid = r.run_uuid AND t.key = 'error' ORDER BY r.start_time"
            ).fetchall()
        except sqlite3.OperationalError:  # the store's tables are being created
            return []
    return [(name, status, error or "") for name, status, error in rows]


def incomplete_outputs(root: Path) -> set[str]:
    """The files Snakemake marked as written by a job that did not finish (it reruns them)."""
    import base64

    folder = root / ".snakemake" / "incomplete"
    return {base64.b64decode(p.name).decode() for p in folder.iterdir()} if folder.is_dir() else set()


def leftover_temporaries(root: Path) -> list[Path]:
    return [p for p in (root / "results").rglob(".*.tmp*") if p.is_file()]


def start_snakemake(root: Path, *args: str) -> subprocess.Popen:
    """Snakemake in its own process group, with SIGINT handled as in a terminal.

    A process started in the background by a non-interactive shell inherits SIGINT
    ignored; reset it, or the test would not test Ctrl-C at all.
    """
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
    return subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--nocolor", *args], cwd=root, env=env,
        stdout=open(root / "snakemake.out", "w"), stderr=subprocess.STDOUT,
        start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for_running_job(root: Path, process: subprocess.Popen, name: str = "train-N_slow") -> str:
    """Block until the job `name` computes (its record says RUNNING, and so does its run in
    the store) for half a second; return its name."""
    deadline = time.monotonic() + 300
    since = None
    while time.monotonic() < deadline:
        assert process.poll() is None, (root / "snakemake.out").read_text()
        running = any(record["run_name"] == name and record["status"] == "RUNNING"
                      for _, record in read_records(root / RECORDS))
        if running and (name, "RUNNING", "") in store_runs(root):
            since = since or time.monotonic()
            if time.monotonic() - since > 0.5:
                return name
        else:
            since = None
        time.sleep(0.05)
    raise AssertionError(f"{name} did not start within 300 s")


def assert_work_finished(root: Path) -> list[tuple[str, str, str]]:
    """Every output made, no run RUNNING, every job with a FINISHED run."""
    runs = store_runs(root)
    assert not [r for r in runs if r[1] == "RUNNING"], runs
    assert {name for name, status, _ in runs if status == "FINISHED"} == set(OUTPUTS)
    for files in OUTPUTS.values():
        for f in files:
            assert (root / "results" / f).is_file(), f
    assert not leftover_temporaries(root)
    return runs


# --- files are written whole or not at all -------------------------------------------


def test_a_failing_writer_leaves_no_file_and_no_temporary(tmp_path):
    def chunks():
        yield pd.DataFrame({"loss": np.arange(3.0)})
        raise RuntimeError("disk full, say")

    target = tmp_path / "out" / "table.parquet"
    with pytest.raises(RuntimeError, match="disk full"):
        io.write_table_chunks(chunks(), target, {"n": 1})
    assert list((tmp_path / "out").iterdir()) == []


def test_a_failing_rewrite_keeps_the_previous_file(tmp_path):
    target = tmp_path / "table.parquet"
    io.write_table(pd.DataFrame({"loss": [1.0, 2.0]}), target, {"version": 1})
    before = target.read_bytes()

    def chunks():
        yield pd.DataFrame({"loss": [9.0]})
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        io.write_table_chunks(chunks(), target, {"version": 2})
    assert target.read_bytes() == before
    assert io.read_table(target)[1]["version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["table.parquet"]


def test_written_files_have_the_usual_permissions(tmp_path):
    # the temporary file is private (0600) while written; the result must not stay so
    target = tmp_path / "table.parquet"
    io.write_table(pd.DataFrame({"loss": [1.0]}), target)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


# --- runs of dead invocations ---------------------------------------------------------


def test_prepare_store_kills_runs_of_dead_invocations_only(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    experiment = prepare_store("faults")
    client = MlflowClient(uri)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = os.uname().nodename
    runs = {}
    for label, invocation, process in [
        ("dead", "old", f"{host}:{dead.pid}"),
        ("live", "other", f"{host}:{live.pid}"),
        ("untagged", "older", ""),
        ("ours", "this", f"{host}:{os.getpid()}"),
        # another machine on a shared store: alive while it beats its heartbeat
        ("elsewhere_beating", "remote", "node7:4242"),
        ("elsewhere_silent", "remote", "node7:4243"),
        ("untagged_beating", "oldest", ""),
    ]:
        run = client.create_run(experiment, run_name=label,
                                tags={"invocation": invocation, "invocation_process": process})
        runs[label] = run.info.run_id
    client.set_tag(runs["elsewhere_beating"], "heartbeat", f"{time.time():.0f}")
    client.set_tag(runs["untagged_beating"], "heartbeat", f"{time.time():.0f}")
    client.set_tag(runs["elsewhere_silent"], "heartbeat", f"{time.time() - 600:.0f}")
    try:
        monkeypatch.setenv(INVOCATION_ENV, "this")
        monkeypatch.setenv(INVOCATION_PROCESS_ENV, f"{host}:{os.getpid()}")
        prepare_store("faults")
        status = {label: client.get_run(run_id).info.status for label, run_id in runs.items()}
    finally:
        live.kill()
        live.wait()
    assert status == {"dead": "KILLED", "live": "RUNNING", "untagged": "KILLED", "ours": "RUNNING",
                      "elsewhere_beating": "RUNNING", "elsewhere_silent": "KILLED",
                      "untagged_beating": "RUNNING"}
    error = client.get_run(runs["dead"]).data.tags["error"]
    assert error == "interrupted: its snakemake invocation ended"


# --- through Snakemake ------------------------------------------------------------------

pipeline = pytest.mark.pipeline


def skip_if_overloaded():
    """The interrupt tests signal a job they saw RUNNING; on a machine loaded far past its
    cores the job may finish before the signal lands, so say so instead of guessing."""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load > 4 * cores:
        pytest.skip(f"load average {load:.1f} on {cores} cores: interrupt timing is unreliable")


def _small_disk(folder: Path, size: str):
    """A real full disk: a tmpfs of `size` mounted on `folder` (root only), what was in it
    copied over with its times; the callers unmount it."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (a real full disk) needs root")
    saved = folder.with_name(folder.name + ".saved")
    folder.rename(saved)
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        folder.rmdir()
        saved.rename(folder)
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    for item in saved.iterdir():
        shutil.copy2(item, folder / item.name)
    return saved


def _unmount(folder: Path, saved: Path) -> None:
    kept = {item.name: item.read_bytes() for item in folder.iterdir()}
    subprocess.run(["umount", str(folder)], check=True)
    folder.rmdir()
    saved.rename(folder)
    for name, content in kept.items():
        (folder / name).write_bytes(content)


@pipeline
def test_a_job_that_raises_fails_its_run_and_leaves_no_outputs(tmp_path):
    root = make_workspace(tmp_path, FAULT_CONFIG)
    snakemake(root, "--cores", "1", "results/data/curve.parquet")
    # A real fault: the disk that holds the figures is full (64 kB), so the train job
    # raises while drawing, after it wrote the model and weights files.
    figures = root / "results" / "figures"
    saved = _small_disk(figures, "64k")
    target = "results/models/N1/weights.parquet"
    try:
        result = snakemake(root, "--cores", "1", target, check=False)
    finally:
        _unmount(figures, saved)
    assert result.returncode != 0
    assert "Error in rule train" in result.stdout + result.stderr
    runs = {name: (status, error) for name, status, error in store_runs(root)}
    assert runs["data-curve"] == ("FINISHED", "")
    status, error = runs["train-N1"]
    assert status == "FAILED"
    assert error.startswith("OSError: [Errno 28] No space left on device"), error
    # The job had written both its files (its log says so) before it raised; Snakemake
    # removed them, and no temporary was left.
    log = (root / "results/logs/train/N1.log").read_text()
    assert log.index("trained [1, 2, 1]") < log.index("job failed")
    assert not [f for f in OUTPUTS["train-N1"] if (root / "results" / f).exists()]
    assert not leftover_temporaries(root)

    snakemake(root, "--cores", "1", target)
    statuses = sorted(status for name, status, _ in store_runs(root) if name == "train-N1")
    assert statuses == ["FAILED", "FINISHED"]
    assert io.read_weights(root / target).names[0] == "W1[0,0]"


@pipeline
def test_runs_that_cannot_be_logged_wait_on_disk_for_the_next_start(tmp_path):
    """The store fails while the jobs run (its artifact folder is a file): every job still
    finishes, its record stays in results/.tracking, the invocation says so, and the next
    start (with nothing to do) logs every run, whole."""
    root = make_workspace(tmp_path, FAULT_CONFIG)
    (root / "mlruns").write_text("not a directory")
    result = snakemake(root, "--cores", "2", *TARGETS[:6])
    said = result.stdout + result.stderr
    assert "run record(s) could not be logged" in said and "results/.tracking" in said, said
    kept = list((root / "results" / ".tracking").glob("*.json"))
    assert len(kept) == 2  # data and train: the runs exist, their files could not be logged
    (root / "mlruns").unlink()
    again = snakemake(root, "--cores", "2", *TARGETS[:6])
    assert "Nothing to be done" in again.stdout + again.stderr
    assert not list((root / "results" / ".tracking").glob("*.json"))
    runs = store_runs(root)
    assert sorted(name for name, status, _ in runs if status == "FINISHED") == ["data-curve",
                                                                                "train-N1"], runs
    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    (train,) = client.search_runs([client.get_experiment_by_name("sklandscape-faults").experiment_id],
                                  filter_string="tags.rule = 'train'")
    files = {a.path for a in client.list_artifacts(train.info.run_id)}
    assert {"weights.parquet", "figures"} <= files, files
    assert train.data.metrics["n_iter"] > 0 and "error" not in train.data.tags


@pipeline
def _interrupt_a_running_job(root: Path):
    """Start the jobs, Ctrl-C once one is running; (its name, the runs, the stopped runs)."""
    process = start_snakemake(root, "--cores", "2", *TARGETS)
    interrupted = wait_for_running_job(root, process)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    assert process.wait(timeout=120) != 0
    runs = store_runs(root)
    stopped = [(name, status, error) for name, status, error in runs if status != "FINISHED"]
    return interrupted, runs, stopped


def test_ctrl_c_leaves_no_partial_output_and_the_next_run_finishes(tmp_path):
    skip_if_overloaded()
    # The signal races the job it is aimed at: a job in its last milliseconds may finish
    # first, and then nothing was interrupted. That is not what is tested here: try again
    # (a fresh workspace each time), up to three times.
    for attempt in range(3):
        root = make_workspace(tmp_path / f"attempt{attempt}", FAULT_CONFIG)
        interrupted, runs, stopped = _interrupt_a_running_job(root)
        if stopped:
            break
    assert not leftover_temporaries(root)
    # The job that was interrupted ended its own run (KILLED) and Snakemake removed its
    # outputs; whatever is left on disk was made by a job that finished.
    assert stopped, f"{interrupted} was running, yet every run finished, 3 times: {runs}"
    for name, status, error in stopped:
        assert status in ("KILLED", "RUNNING"), runs
        if status == "KILLED":
            assert error.startswith("interrupted (SIGINT")
        # what it had written is gone, or marked incomplete: the next run makes it again
        assert not [f for f in OUTPUTS[name] if (root / "results" / f).exists()
                    and f"results/{f}" not in incomplete_outputs(root)], incomplete_outputs(root)
    finished = {name for name, status, _ in runs if status == "FINISHED"}
    present = {name for name, files in OUTPUTS.items()
               if all((root / "results" / f).exists() for f in files)
               and not any(f"results/{f}" in incomplete_outputs(root) for f in files)}
    assert present <= finished

    # No flag needed: the workflow profile reruns jobs whose outputs Snakemake marked
    # incomplete. A job interrupted just after its run ended (while its process exited)
    # is rerun too, so it may have two FINISHED runs.
    snakemake(root, "--cores", "2", *TARGETS)
    runs = assert_work_finished(root)
    for _, status, error in runs:
        if status != "FINISHED":
            assert status == "KILLED" and error.startswith("interrupted"), runs


@pipeline
def test_a_hard_kill_leaves_a_running_run_that_the_next_start_marks_killed(tmp_path):
    skip_if_overloaded()
    # As with Ctrl-C, the kill races the job: one that finished first was not killed; try
    # again in a fresh workspace, up to three times.
    for attempt in range(3):
        root = make_workspace(tmp_path / f"attempt{attempt}", FAULT_CONFIG)
        process = start_snakemake(root, "--cores", "2", *TARGETS)
        killed = wait_for_running_job(root, process)
        os.killpg(process.pid, signal.SIGKILL)  # no handler runs: as a power cut would
        process.wait(timeout=60)
        if (killed, "RUNNING", "") in store_runs(root):
            break
    assert (killed, "RUNNING", "") in store_runs(root)

    # A kill leaves Snakemake's lock on the directory: it says so, and how to remove it.
    locked = snakemake(root, "--cores", "2", *TARGETS, check=False)
    assert locked.returncode != 0 and "--unlock" in locked.stdout + locked.stderr
    snakemake(root, "--unlock")
    # A kill during a write leaves atomic_path's temporary beside the file: the next start
    # removes it before any job runs (here one planted, as the kill may land elsewhere).
    debris = root / "results" / "landscapes" / ".landscape.parquet.k1ll3d.tmp"
    debris.parent.mkdir(parents=True, exist_ok=True)
    debris.write_bytes(b"PAR1 half a table")
    # The next start marks the dead invocation's runs KILLED before any job runs (onstart)
    # and reruns what was left incomplete (the workflow profile).
    # The environment it inherits names the dead invocation and a live process (this one):
    # as a shell or a Python process that once parsed the Snakefile would. It must not
    # take them for its own, or the dead runs would stay RUNNING for ever.
    with sqlite3.connect(f"file:{root / 'mlflow.db'}?mode=ro", uri=True) as connection:
        (dead_invocation,) = connection.execute(
            "SELECT value FROM tags WHERE key = 'invocation' LIMIT 1").fetchone()
    inherited = {INVOCATION_ENV: dead_invocation,
                 INVOCATION_PROCESS_ENV: f"{socket.gethostname()}:{os.getpid()}"}
    snakemake(root, "--cores", "2", *TARGETS, env=inherited)
    runs = assert_work_finished(root)
    assert not debris.exists() and leftover_temporaries(root) == []
    assert (killed, "KILLED", "interrupted: its snakemake invocation ended") in runs
    # ... once: the dead job's record, left RUNNING, ended as that same run
    assert sum(name == killed and status == "KILLED" for name, status, _ in runs) == 1, runs
    assert not list((root / "results" / ".tracking").glob("*.json"))


def test_invocations_creating_one_new_store_together_all_succeed(tmp_path):
    """Three processes prepare one new SQLite store at the same moment (two invocations
    starting together on a shared store): every one succeeds, with one experiment.
    Before the lock around the store's creation, two of three failed here ("table
    experiments already exists" and the like from the store's migrations)."""
    env = dict(os.environ, MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'shared.db'}")
    code = ("import sys, time; from sklandscape.pipeline.tracking.logger import prepare_store; "
            "time.sleep(max(0.0, float(sys.argv[1]) - time.time())); "
            "print(prepare_store('together'))")
    start = time.time() + 6  # after every process has imported mlflow
    processes = [subprocess.Popen([sys.executable, "-c", code, str(start)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
    results = [(p.wait(timeout=120), p.stdout.read().strip(), p.stderr.read()) for p in processes]
    assert [code for code, _, _ in results] == [0, 0, 0], [err[-500:] for _, _, err in results]
    assert len({out for _, out, _ in results}) == 1


def _logger(tmp_path, monkeypatch, experiment):
    from sklandscape.pipeline.tracking.logger import RecordLogger

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", experiment)
    monkeypatch.setenv(RECORDS_ENV, str(tmp_path / "records"))
    monkeypatch.setenv(INVOCATION_ENV, "this")
    return RecordLogger(tmp_path / "records", experiment)


def test_a_running_job_has_a_run_that_beats_its_heartbeat(tmp_path, monkeypatch):
    """While a job computes, its run is RUNNING in the store and the logging process beats
    its heartbeat (what another machine on the store reads as alive)."""
    from sklandscape.pipeline.tracking import logger as tracking

    monkeypatch.setattr(tracking, "HEARTBEAT_SECONDS", 0.0)
    logger = _logger(tmp_path, monkeypatch, "beats")
    job = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record = RunRecord("landscape", "landscape", {"landscape": "x"}, {"span": 1.0})
        record.data["job_process"] = f"{socket.gethostname()}:{job.pid}"
        record.save()
        before = time.time()
        assert logger.log_pass() == 1  # still running: kept
        (run,) = logger.client.search_runs([logger.experiment_ids["beats"]])
        assert run.info.status == "RUNNING" and run.data.params == {"span": "1.0"}
        assert float(run.data.tags["heartbeat"]) >= before - 1
        record.log_metrics({"loss_min": 0.5})
        record.end("FINISHED")
        assert logger.log_pass() == 0
    finally:
        job.kill()
        job.wait()
    done = logger.client.get_run(run.info.run_id)
    assert done.info.status == "FINISHED" and done.data.metrics == {"loss_min": 0.5}
    assert done.info.end_time == record.data["end_ms"]


def test_a_run_links_to_the_run_that_wrote_its_file_not_to_a_twin(tmp_path, monkeypatch):
    """Two projects on one store write byte-identical weights: each landscape links to its
    own project's training run, whichever finished last."""
    logger = _logger(tmp_path, monkeypatch, "shared")
    producers = {}
    for project in ("mine", "theirs"):
        folder = tmp_path / project
        folder.mkdir()
        (folder / "weights.parquet").write_bytes(b"the same bytes")
        monkeypatch.chdir(folder)
        with job_record("train", "train", {"network": "N1"}, {}) as run:
            run.record_output("weights.parquet")
        logger.log_pass(final=True)
        (found,) = logger.client.search_runs([logger.experiment_ids["shared"]],
                                             filter_string=f"tags.sklandscape_record = '{run.id}'")
        producers[project] = found.info.run_id
    monkeypatch.chdir(tmp_path / "mine")
    with job_record("landscape", "landscape", {"landscape": "L"}, {}) as run:
        run.link_to_producer("weights.parquet")
    logger.log_pass(final=True)
    (landscape,) = logger.client.search_runs([logger.experiment_ids["shared"]],
                                             filter_string="tags.rule = 'landscape'")
    assert landscape.data.tags["upstream_run_id"] == producers["mine"]
    assert f"runs/{producers['mine']})" in landscape.data.tags["mlflow.note.content"]


def test_a_run_marked_killed_that_then_finishes_keeps_no_error(tmp_path, monkeypatch):
    """Another machine took this run for dead and marked it KILLED; it then finished: it ends
    FINISHED, without the error tag."""
    logger = _logger(tmp_path, monkeypatch, "marked")
    job = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record = RunRecord("landscape", "landscape", {"landscape": "x"}, {})
        record.data["job_process"] = f"{socket.gethostname()}:{job.pid}"
        record.save()
        logger.log_pass()
        (run,) = logger.client.search_runs([logger.experiment_ids["marked"]])
        logger.client.set_tag(run.info.run_id, "error", "interrupted: its snakemake invocation ended")
        logger.client.set_terminated(run.info.run_id, "KILLED")
        record.end("FINISHED")
        logger.log_pass()
    finally:
        job.kill()
        job.wait()
    done = logger.client.get_run(run.info.run_id)
    assert done.info.status == "FINISHED" and "error" not in done.data.tags


@pipeline
def test_killing_only_the_main_process_stops_its_jobs_and_the_rerun_duplicates_nothing(tmp_path):
    """kill -9 of the snakemake process alone: its jobs notice within seconds, end their runs
    KILLED and exit, so the README's --unlock and rerun do not run them twice at once."""
    skip_if_overloaded()
    for attempt in range(3):  # the kill races the job, as above
        root = make_workspace(tmp_path / f"attempt{attempt}", FAULT_CONFIG)
        # One job at a time: the kill lands while the slow job computes, not in the instant
        # another job ends, before Snakemake recorded it (that job would be done again: the
        # limit docs/failures.md states).
        process = start_snakemake(root, "--cores", "1", *TARGETS)
        orphan = wait_for_running_job(root, process)
        os.kill(process.pid, signal.SIGKILL)  # the main process only, not its group
        process.wait(timeout=60)
        # Its jobs notice within seconds and end their records KILLED (nobody logs them:
        # the process that would is gone).
        deadline = time.time() + 30
        while time.time() < deadline and any(
                record["status"] == "RUNNING" for _, record in read_records(root / RECORDS)):
            time.sleep(0.5)
        ended = {record["run_name"]: (record["status"], record["tags"].get("error", ""))
                 for _, record in read_records(root / RECORDS)}
        if ended.get(orphan) == ("KILLED", "interrupted (its snakemake invocation ended)"):
            break
    assert ended.get(orphan) == ("KILLED", "interrupted (its snakemake invocation ended)"), ended
    snakemake(root, "--unlock")
    snakemake(root, "--cores", "2", *TARGETS)
    runs = assert_work_finished(root)
    finished = [name for name, status, _ in runs if status == "FINISHED"]
    assert len(finished) == len(set(finished)), runs  # one FINISHED run per job
    # the orphan's record arrived at the next start, as the run it had begun
    assert (orphan, "KILLED", "interrupted (its snakemake invocation ended)") in runs, runs


@pipeline
def test_a_damaged_intermediate_is_found_and_rebuilt(tmp_path):
    """A table cut short looks finished to Snakemake: the next start finds it from its ends,
    deletes it and rebuilds it (a dry run only says so). Damage inside a table fails the job
    that reads it, by its page checksums, naming the file; that job deletes it, and the next
    run rebuilds it. Both come back byte for byte."""
    root = make_workspace(tmp_path, FAULT_CONFIG)
    targets = [t for t in TARGETS if "N_slow" not in t]
    snakemake(root, "--cores", "2", *targets)
    table = root / "results/landscapes/N1_all.parquet"
    weights = root / "results/models/N1/weights.parquet"
    original_table, original_weights = table.read_bytes(), weights.read_bytes()

    table.write_bytes(original_table[: len(original_table) // 2])
    for flags in ("-n", "-np", "--dry-run"):  # a dry run changes nothing, however it is asked
        dry = snakemake(root, flags, *targets)
        assert "N1_all.parquet is damaged (cut short" in dry.stderr, dry.stderr[-2000:]
        assert table.stat().st_size < len(original_table)
    again = snakemake(root, "--cores", "2", *targets)
    assert "N1_all.parquet was damaged (cut short" in again.stderr
    assert table.read_bytes() == original_table

    damaged = bytearray(original_weights)
    damaged[200:216] = bytes(16)  # inside a data page; header and footer intact
    weights.write_bytes(bytes(damaged))  # newer than the landscapes: they read it again
    failed = snakemake(root, "--cores", "2", *targets, check=False)
    assert failed.returncode != 0
    logs = "".join(p.read_text() for p in (root / "results/logs/landscape").glob("*.log"))
    assert f"{Path('results/models/N1/weights.parquet')}: not a readable Parquet file" in logs
    assert "made by this pipeline, so it is deleted: the next run rebuilds it" in logs
    assert not weights.exists()
    snakemake(root, "--cores", "2", *targets)
    assert weights.read_bytes() == original_weights
    assert table.read_bytes() == original_table


class _SwallowsAnInterrupt:
    """Ctrl-C arriving while a finaliser runs: the KeyboardInterrupt is raised inside
    __del__, where Python prints "Exception ignored" and goes on."""

    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10_000):  # the handler runs here, between these bytecodes
            pass


@pytest.fixture
def own_signal_handlers():
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    # Python's own Ctrl-C, as in a terminal: a test suite started in the background (`cmd &`)
    # inherits SIGINT ignored, and a job then rightly keeps ignoring it
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("failure, status, error", [
    ("interrupted_then_broken", "KILLED", "interrupted (SIGINT)"),
    ("interrupt_swallowed_then_broken", "KILLED", "interrupted (SIGINT)"),
    ("interrupt_swallowed_then_finished", "KILLED", "interrupted (SIGINT)"),
    ("broken", "FAILED", "ValueError: Invalid bounding box"),
])
def test_a_job_stopped_mid_way_ends_killed_even_if_its_code_fails_on_the_way_out(
        tmp_path, monkeypatch, own_signal_handlers, failure, status, error):
    """Ctrl-C inside matplotlib's savefig made it raise "Invalid bounding box" (seen in CI,
    twice): that job was stopped, not broken. An interrupt may be lost on the way (raised in a
    finaliser), and the code it cut short then fails, or even ends as if nothing happened; the
    job still ends KILLED, and never as FINISHED. An error of its own is still FAILED."""
    monkeypatch.setenv("SKLANDSCAPE_RUN_RECORDS", str(tmp_path))
    swallowed = []
    monkeypatch.setattr(sys, "unraisablehook", swallowed.append)
    expected = KeyboardInterrupt if failure.endswith("finished") else ValueError
    with pytest.raises(expected):
        with job_record("train", "train", {"network": "N1"}, {}):
            if failure == "broken":
                raise ValueError("Invalid bounding box")
            if failure.startswith("interrupt_swallowed"):
                _SwallowsAnInterrupt()  # dropped at once: its __del__ runs here
                if failure.endswith("broken"):
                    raise ValueError("Invalid bounding box")
            else:
                try:
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(5)  # interrupted at once
                finally:
                    raise ValueError("Invalid bounding box")  # noqa: B012 (as matplotlib's)
    ((_, record),) = read_records(tmp_path)
    assert (record["status"], record["tags"]["error"]) == (status, error)
    if failure.startswith("interrupt_swallowed"):  # the interrupt really was swallowed
        assert [type(lost.exc_value) for lost in swallowed] == [KeyboardInterrupt]


def test_the_same_ctrl_c_twice_does_not_cut_short_the_clean_up_but_a_later_signal_stops_the_job(
        tmp_path, monkeypatch, own_signal_handlers):
    """A Ctrl-C can reach a job twice, milliseconds apart (from the terminal's process group,
    and as Snakemake's SIGTERM when it cancels its jobs): the second must not interrupt the
    clean-up the first set off. A signal that comes later interrupts again, since the first may have been
    swallowed, and the job must not run on to its end."""
    monkeypatch.setenv("SKLANDSCAPE_RUN_RECORDS", str(tmp_path))
    monkeypatch.setattr(sys, "unraisablehook", lambda lost: None)
    cleaned_up = []
    with pytest.raises(KeyboardInterrupt):
        with job_record("train", "train", {"network": "N1"}, {}):
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(5)
            finally:
                os.kill(os.getpid(), signal.SIGINT)  # the same Ctrl-C, passed on
                for _ in range(10_000):
                    pass
                cleaned_up.append(True)
    assert cleaned_up
    ((_, record),) = read_records(tmp_path)
    assert (record["status"], record["tags"]["error"]) == ("KILLED", "interrupted (SIGINT)")

    reached_the_end = []
    with pytest.raises(KeyboardInterrupt):
        with job_record("train", "train", {"network": "N2"}, {}):
            _SwallowsAnInterrupt()
            time.sleep(1.5)
            os.kill(os.getpid(), signal.SIGTERM)  # e.g. Snakemake stopping the job
            time.sleep(5)
            reached_the_end.append(True)
    assert not reached_the_end


@pipeline
def test_a_full_records_disk_fails_the_job_with_the_disk_error_not_killed(tmp_path):
    """The disk under results/.tracking fills while a job runs: the job cannot write its
    ended record, so it fails, and its run says FAILED with the disk error (it was recorded
    KILLED, "lost with its node", before)."""
    root = make_workspace(tmp_path, FAULT_CONFIG)
    records = root / RECORDS
    records.mkdir(parents=True)
    saved = _small_disk(records, "8k")
    try:
        # half of the disk taken: a job's first record fits, its ended one (a new file) not
        (records / "filler").write_bytes(b"\0" * 4096)
        result = snakemake(root, "--cores", "1", "results/data/curve.parquet", check=False)
    finally:
        (records / "filler").unlink()
        _unmount(records, saved)
    assert result.returncode != 0
    runs = {name: (status, error) for name, status, error in store_runs(root)}
    status, error = runs["data-curve"]
    assert status == "FAILED", runs
    assert error.startswith("OSError: [Errno 28] No space left on device"), error
    assert error.endswith("(writing its run record)")
