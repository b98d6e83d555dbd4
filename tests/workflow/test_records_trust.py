"""Run records are a trust boundary: whatever a careless or hostile user writes into
`results/.tracking/`, the logger checks it first, sets aside what it cannot log with the
reason, and logs the rest; it uploads nothing from outside the project, never rewrites a run
it did not make, and logs a retried record once. Real Snakemake runs, a real SQLite store."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid

import pytest

from sklandscape.pipeline.tracking import records
from workflow_support import make_workspace, snakemake, tracked_runs

pytestmark = pytest.mark.pipeline

EXPERIMENT = "sklandscape-trust"
CONFIG = {
    "experiment": EXPERIMENT,
    "datasets": {"curve": {"function": "sine", "n_samples": 30, "domain": [[-3.0, 3.0]],
                           "sampling": "grid"}},
    "networks": {"N1": {"dataset": "curve", "hidden_layer_sizes": [2], "max_iter": 200}},
    "landscapes": {"N1_slice": {"network": "N1", "kind": "weights",
                                "axes": ["W1[0,0]", "W2[0,0]"], "span": 1.0, "resolution": 7}},
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("trust"), CONFIG)
    snakemake(root, "--cores", "2")
    return root


def _record(root, **changes) -> dict:
    """A record as a job writes it, for a run that ended, with `changes`."""
    figure = root / "results" / "figures" / "landscape_N1_slice.png"
    record = {
        "id": uuid.uuid4().hex, "token": uuid.uuid4().hex,
        "store": records.store_id(f"sqlite:///{root / 'mlflow.db'}"),
        "experiment": EXPERIMENT, "run_name": "crafted", "status": "FINISHED",
        "start_ms": int(time.time() * 1000), "end_ms": int(time.time() * 1000),
        "job_process": "nohost:1:1", "tags": {"stage": "landscape"}, "params": {},
        "metrics": {"loss_min": 1.0}, "artifacts": [[str(figure), "figures"]],
        "output": None, "links": [], "adopt": [], "dataset": None, "model": None,
    }
    record.update(changes)
    return record


def _write(root, name: str, content) -> None:
    folder = root / "results" / ".tracking"
    folder.mkdir(exist_ok=True)
    text = content if isinstance(content, str) else json.dumps(content)
    (folder / f"{name}.json").write_text(text)


def test_crafted_records_are_set_aside_with_their_reason_and_the_rest_is_logged(workspace,
                                                                             tmp_path):
    root = workspace
    client, runs = tracked_runs(root, EXPERIMENT)
    (real,) = [r for r in runs if r.info.run_name == "landscape-N1_slice"]
    secret = tmp_path / "secret.txt"  # a file of the user's outside the project
    secret.write_text("not for the tracking server")
    inside = root / "results" / "link_out.txt"
    inside.symlink_to(secret)
    crafted = {
        "list": [], "empty": {}, "not_json": "{not json",
        "bogus_status": _record(root, status="BOGUS"),
        "quoted_id": _record(root, id="abc' or '1'='1"),
        "outside": _record(root, artifacts=[[str(secret), "figures"]]),
        "dotdot": _record(root, artifacts=[[str(root / "results" / ".." / ".." / secret.name),
                                            None]]),
        "link_out": _record(root, artifacts=[[str(inside), None]]),
        "device": _record(root, artifacts=[["/dev/zero", None]]),
        "own_tag": _record(root, tags={"mlflow.parentRunId": real.info.run_id}),
        # the id of a real run, without its secret: it must not rewrite that run
        "forged": _record(root, id=real.data.tags["sklandscape_record"], status="FAILED",
                          metrics={"loss_min": -999.0}),
    }
    for name, content in crafted.items():
        _write(root, name, content)
    os.mkfifo(root / "results" / ".tracking" / "fifo.json")  # would block a plain read
    crafted["fifo"] = None
    _write(root, "good", _record(root, run_name="a-good-record"))
    (root / "results" / "models" / "N1" / "weights.parquet").touch()  # something to rerun
    done = snakemake(root, "--cores", "2", "results/landscapes/N1_slice.parquet", "--forcerun",
                     "landscape")
    output = done.stdout + done.stderr
    rejected = root / "results" / ".tracking" / "rejected"
    assert sorted(p.stem for p in rejected.glob("*.json")) == sorted(crafted)
    reasons = {p.name.removesuffix(".json.reason"): p.read_text()
               for p in rejected.glob("*.reason")}
    assert "status" in reasons["bogus_status"] and "id:" in reasons["quoted_id"]
    assert "outside the project's results folder" in reasons["outside"]
    assert "outside the project's results folder" in reasons["dotdot"]
    assert "outside the project's results folder" in reasons["link_out"]
    assert "outside" in reasons["device"]
    assert "not a run record" in reasons["list"] or "mapping" in reasons["list"]
    assert "not JSON" in reasons["not_json"]
    assert "logger sets itself" in reasons["own_tag"]
    assert "not a regular file" in reasons["fifo"]
    assert "another record made" in reasons["forged"]
    for name in crafted:  # one line each, naming the file and the reason
        assert f"the run record {name}.json is not logged" in output
    client, runs = tracked_runs(root, EXPERIMENT)
    names = [r.info.run_name for r in runs]
    assert "a-good-record" in names and "crafted" not in names
    assert names.count("landscape-N1_slice") == 2  # the forced rerun logged its own
    again = client.get_run(real.info.run_id)
    assert again.info.status == "FINISHED" and again.data.metrics["loss_min"] != -999.0
    # nothing from outside the project reached the store
    store_files = [p for p in (root / "mlruns").rglob("*") if p.is_file()]
    assert not [p for p in store_files if p.name in ("secret.txt", "link_out.txt", "zero")]
    assert not list((root / "results" / ".tracking").glob("*.json"))


def test_a_deleted_experiment_is_restored_and_its_runs_logged(workspace):
    root = workspace
    client, _ = tracked_runs(root, EXPERIMENT)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    client.delete_experiment(experiment.experiment_id)
    _write(root, "after_delete", _record(root, run_name="after-the-delete"))
    done = snakemake(root, "--cores", "2")
    assert "had been deleted; restored it" in done.stdout + done.stderr
    assert client.get_experiment(experiment.experiment_id).lifecycle_stage == "active"
    _, runs = tracked_runs(root, EXPERIMENT)
    assert "after-the-delete" in [r.info.run_name for r in runs]
    assert not list((root / "results" / ".tracking").glob("*.json"))


def test_a_record_of_another_store_waits_for_it(workspace):
    root = workspace
    other = _record(root, run_name="for-the-other-store",
                    store=records.store_id("sqlite:////elsewhere/mlflow.db"))
    _write(root, "other_store", other)
    done = snakemake(root, "--cores", "2")
    assert "were written for another MLflow store" in done.stdout + done.stderr
    assert (root / "results" / ".tracking" / "other_store.json").is_file()
    _, runs = tracked_runs(root, EXPERIMENT)
    assert "for-the-other-store" not in [r.info.run_name for r in runs]
    (root / "results" / ".tracking" / "other_store.json").unlink()


def test_a_retried_record_makes_no_second_run_and_no_second_image(workspace):
    root = workspace
    record = _record(root, run_name="retried")
    _write(root, "retried", record)
    snakemake(root, "--cores", "2")
    _write(root, "retried", record)  # as if the logger had crashed before deleting it
    snakemake(root, "--cores", "2")
    client, runs = tracked_runs(root, EXPERIMENT)
    (run,) = [r for r in runs if r.info.run_name == "retried"]
    images = [a.path for a in client.list_artifacts(run.info.run_id, "images")]
    assert len([p for p in images if p.endswith(".png")]) == 1, images


def test_a_reused_pid_or_a_thread_is_not_the_process(tmp_path):
    child = subprocess_sleeping()
    try:
        key = records.process_key(child.pid)
        host, pid, start = key.split(":")
        assert records.process_alive(key)
        # the same pid with another start time: a process that took over a dead one's pid
        assert not records.process_alive(f"{host}:{pid}:{int(start) + 1}")
        # a thread of a live process has an entry in /proc too, and is not a process
        stop = threading.Event()
        thread = threading.Thread(target=stop.wait)
        thread.start()
        try:
            tid = thread.native_id
            assert os.path.exists(f"/proc/{tid}/stat") and tid != os.getpid()
            assert not records.process_alive(records.process_key(tid))
        finally:
            stop.set()
            thread.join()
    finally:
        child.kill()
        child.wait()
    assert not records.process_alive(key)  # ended


def subprocess_sleeping():
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_records_are_the_users_alone(workspace):
    folder = root_records = workspace / "results" / ".tracking"
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    record = records.RunRecord("landscape", "landscape", {}, {}, folder=root_records)
    record.save()
    try:
        assert oct(record.path.stat().st_mode & 0o777) == "0o600"
    finally:
        record.path.unlink()
    shutil.rmtree(folder / "rejected", ignore_errors=True)


def test_a_second_snakemake_refused_by_the_lock_says_only_that(tmp_path):
    """While one invocation runs, a second in the same folder is refused by Snakemake's lock;
    it must not speak of the first one's runs ("could not be logged", "left RUNNING")."""
    import subprocess
    import sys

    # a training of several seconds (as in test_faults), for the second to arrive meanwhile
    slow = {**CONFIG, "networks": {"N1": {"dataset": "curve", "hidden_layer_sizes": [64, 64],
                                          "solver": "adam", "max_iter": 3000, "tol": 1e-12}}}
    root = make_workspace(tmp_path / "locked", slow)
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
    first = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "1", "--nocolor"],
                             cwd=root, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not any("train" in json.loads(p.read_text()).get("run_name", "")
                      for p in (root / "results" / ".tracking").glob("*.json")
                      if p.stat().st_size):
            assert time.time() < deadline and first.poll() is None, "the first run never trained"
            time.sleep(0.2)
        second = snakemake(root, "--cores", "1", check=False)
        said = second.stdout + second.stderr
        assert second.returncode != 0 and "lock" in said.lower()
        assert "could not be logged" not in said and "left RUNNING" not in said, said[-3000:]
    finally:
        first.terminate()
        first.wait(60)


def test_the_stores_lock_file_is_not_followed_through_a_link(tmp_path, monkeypatch):
    """In a folder others can write, a link planted at mlflow.db.lock must not make this
    process create or open the file it points to."""
    from sklandscape.pipeline.tracking import logger

    target = tmp_path / "elsewhere" / "owned_by_root"
    target.parent.mkdir()
    (tmp_path / "mlflow.db.lock").symlink_to(target)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    with pytest.raises(OSError), logger._creating_store():
        pass
    assert not target.exists()
