"""A team's setup: the pipeline logs to a remote `mlflow server` over HTTP.

The server keeps runs in its own SQLite store and artifacts in its own directory
(--artifacts-destination); the pipeline's machine gets neither, only
MLFLOW_TRACKING_URI=http://127.0.0.1:PORT.
"""

from __future__ import annotations

import os
import subprocess
import sys

import mlflow.artifacts
import mlflow.sklearn
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from service_support import mlflow_server
from sklandscape import io
from sklandscape.data.datasets import split_xy
from workflow_support import make_workspace, planned_jobs, snakemake

pytestmark = pytest.mark.pipeline

EXPERIMENT = "sklandscape-remote"
REMOTE_CONFIG = {
    "experiment": EXPERIMENT,
    "datasets": {
        "curve": {"function": "sine", "n_samples": 40, "domain": [[-3.14159, 3.14159]],
                  "sampling": "grid"},
    },
    "networks": {"N1": {"dataset": "curve", "hidden_layer_sizes": [2], "max_iter": 300}},
    "landscapes": {
        "N1_all": {"network": "N1", "kind": "weights", "axes": ["b1[0]", "W2[1,0]"],
                   "span": 1.0, "resolution": 9},
    },
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The tracking server: its store and its artifacts live only on its side."""
    home = tmp_path_factory.mktemp("tracking-server")
    with mlflow_server(f"sqlite:///{home / 'server.db'}", home / "server.log",
                       artifacts=home / "artifacts") as url:
        yield url, home


@pytest.fixture(scope="module")
def pipeline(server, tmp_path_factory):
    url, _ = server
    root = make_workspace(tmp_path_factory.mktemp("remote-client"), REMOTE_CONFIG)
    env = {"MLFLOW_TRACKING_URI": url}
    jobs = planned_jobs(root, env=env)
    snakemake(root, "--cores", "2", env=env)
    return root, jobs


@pytest.fixture(scope="module")
def remote(server, pipeline):
    url, _ = server
    client = MlflowClient(tracking_uri=url)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    return client, experiment, {run.info.run_name: run for run in runs}


def test_every_job_logs_its_run_over_http(pipeline, remote):
    root, jobs = pipeline
    _, _, runs = remote
    assert sorted(runs) == sorted(f"{rule}-{wc.split('=', 1)[1]}" for rule, wc in jobs)
    assert {run.info.status for run in runs.values()} == {"FINISHED"}
    landscape, train = runs["landscape-N1_all"], runs["train-N1"]
    assert landscape.data.tags["upstream_run_id"] == train.info.run_id
    # nothing was logged on the pipeline's side
    assert not (root / "mlflow.db").exists() and not (root / "mlruns").exists()


def test_artifacts_arrive_through_the_server(pipeline, server, remote):
    root, _ = pipeline
    url, home = server
    client, experiment, runs = remote
    assert experiment.artifact_location.startswith("mlflow-artifacts:")
    landscape = runs["landscape-N1_all"]
    figure = "landscape_N1_all.png"
    fetched = client.download_artifacts(landscape.info.run_id, f"figures/{figure}",
                                        str(root / "fetched"))
    local = (root / "results/figures" / figure).read_bytes()
    assert open(fetched, "rb").read() == local
    stored = list((home / "artifacts").rglob(figure))
    # in the server's artifact store, under the landscape run that drew it (no figure jobs)
    assert [path.parts[-4] for path in stored] == [landscape.info.run_id]
    assert stored[0].read_bytes() == local

    train = runs["train-N1"]
    weights = client.download_artifacts(train.info.run_id, "weights.parquet", str(root / "w"))
    assert open(weights, "rb").read() == (root / "results/models/N1/weights.parquet").read_bytes()


def test_the_logged_model_predicts_like_the_pipelines_model(pipeline, server, remote):
    root, _ = pipeline
    url, _ = server
    client, experiment, runs = remote
    (model,) = client.search_logged_models(
        experiment_ids=[experiment.experiment_id],
        filter_string=f"source_run_id = '{runs['train-N1'].info.run_id}'",
    )
    folder = mlflow.artifacts.download_artifacts(
        artifact_uri=model.artifact_location, dst_path=str(root / "model"), tracking_uri=url
    )
    served = mlflow.sklearn.load_model(folder)
    ours = io.read_model(root / "results/models/N1/model.skops")
    X, _ = split_xy(io.read_table(root / "results/data/curve.parquet")[0])
    np.testing.assert_array_equal(served.predict(X), ours.predict(X))


def test_prepare_store_works_over_http(server):
    """What the Snakefile's onstart does: create the experiment, end runs left RUNNING."""
    url, _ = server
    client = MlflowClient(tracking_uri=url)
    experiment_id = client.create_experiment("sklandscape-stale")
    stale = client.create_run(experiment_id, tags={"invocation": "an-earlier-one"})
    script = (
        "from sklandscape.pipeline.tracking.logger import prepare_store; "
        "print('ids', prepare_store('sklandscape-stale'), prepare_store('sklandscape-new'))"
    )
    env = {**os.environ, "MLFLOW_TRACKING_URI": url, "SKLANDSCAPE_INVOCATION": "this-one"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, check=True)
    _, first, second = done.stdout.splitlines()[-1].split()
    assert first == experiment_id
    assert client.get_experiment_by_name("sklandscape-new").experiment_id == second
    after = client.get_run(stale.info.run_id)
    assert after.info.status == "KILLED"
    assert "interrupted" in after.data.tags["error"]


def test_a_server_that_does_not_answer_fails_fast_and_clearly(tmp_path):
    """No server at the address: the run stops at its start, in seconds, naming the address
    (MLflow alone retried for 254 s)."""
    import socket
    import time

    from workflow_support import make_workspace, snakemake

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    root = make_workspace(tmp_path)
    started = time.monotonic()
    result = snakemake(root, "--cores", "1", check=False,
                       env={"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}"})
    elapsed = time.monotonic() - started
    text = result.stdout + result.stderr
    assert result.returncode != 0 and elapsed < 30, (elapsed, text[-2000:])
    assert f"MLFLOW_TRACKING_URI=http://127.0.0.1:{port}: the tracking server does not answer" in text
    assert not (root / "results" / "models").exists()


def test_a_server_lost_mid_run_loses_nothing_and_the_next_start_logs_it(tmp_path):
    """The server dies after the first run arrived: every job still finishes (none talks to
    MLflow), the invocation says what it could not log and keeps it on disk, and the next
    `snakemake`, with nothing to do, logs it once the server is back: one FINISHED run per
    job, artifacts included."""
    import time

    from service_support import free_port

    home = tmp_path / "server"
    home.mkdir()
    store, port = f"sqlite:///{home / 'server.db'}", free_port()
    url = f"http://127.0.0.1:{port}"
    root = make_workspace(tmp_path / "client", REMOTE_CONFIG)
    jobs = planned_jobs(root, env={"MLFLOW_TRACKING_URI": url})
    env = {**os.environ, "MLFLOW_TRACKING_URI": url}
    with open(root / "snakemake.out", "w") as out, \
            mlflow_server(store, home / "server.log", artifacts=home / "artifacts", port=port):
        process = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "1", "--nocolor"],
                                   cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
        client = MlflowClient(tracking_uri=url)
        deadline = time.monotonic() + 120
        while not (client.get_experiment_by_name(EXPERIMENT) and client.search_runs(
                [client.get_experiment_by_name(EXPERIMENT).experiment_id])):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
    lost = time.monotonic()  # the server is stopped here
    assert process.wait(timeout=300) == 0, (root / "snakemake.out").read_text()[-3000:]
    said = (root / "snakemake.out").read_text()
    assert time.monotonic() - lost < 60, said[-2000:]
    assert "run record(s) could not be logged to " + url in said, said[-2000:]
    kept = list((root / "results/.tracking").glob("*.json"))
    assert kept and (root / "results/figures/landscape_N1_all.png").is_file()

    with mlflow_server(store, home / "server.log", artifacts=home / "artifacts", port=port):
        again = snakemake(root, "--cores", "1", env={"MLFLOW_TRACKING_URI": url})
        assert "Nothing to be done" in again.stdout + again.stderr
        client = MlflowClient(tracking_uri=url)
        experiment = client.get_experiment_by_name(EXPERIMENT)
        runs = client.search_runs([experiment.experiment_id], max_results=100)
        names = sorted(run.info.run_name for run in runs)
        assert names == sorted(f"{rule}-{wc.split('=')[1]}" for rule, wc in jobs), names
        assert {run.info.status for run in runs} == {"FINISHED"}
        landscape = next(r for r in runs if r.info.run_name == "landscape-N1_all")
        assert "figures/landscape_N1_all.png" in {
            a.path for a in client.list_artifacts(landscape.info.run_id, "figures")}
    assert not list((root / "results/.tracking").glob("*.json"))


def test_a_dataset_with_whole_number_classes_is_logged_without_a_warning(tmp_path):
    """digits' labels are integers: mlflow's (lazy) schema inference hints at missing values,
    a warning that the user can do nothing about and that cluttered snakemake's output."""
    import warnings

    import pandas as pd

    from sklandscape.pipeline.tracking import logger as tracking
    from sklandscape.provenance import file_key

    path = tmp_path / "digits.parquet"
    pd.DataFrame({"x0": [0.0, 16.0, 3.0], "y": [3, 4, 3]}).to_parquet(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        entity = tracking._dataset_entity(*file_key(path), "digits", "y")
    assert entity.name == "digits" and entity.digest and '"y"' in entity.schema


PASSWORD = "Pw-4-the-test-only"


def test_credentials_in_the_address_work_and_are_written_nowhere(server, tmp_path_factory):
    """`http://user:password@host:port`, as the MLflow client and curl accept it: the check
    before any job and every run go through, and the password is in no file of the project
    (results, records, logs, Snakemake's own) and in none of the output."""
    url, _ = server
    with_credentials = url.replace("http://", f"http://alice:{PASSWORD}@")
    root = make_workspace(tmp_path_factory.mktemp("credentials"), REMOTE_CONFIG)
    env = {"MLFLOW_TRACKING_URI": with_credentials, "MLFLOW_TRACKING_PASSWORD": PASSWORD}
    client = MlflowClient(tracking_uri=url)

    def runs():
        found = client.get_experiment_by_name(EXPERIMENT)
        return [] if found is None else client.search_runs([found.experiment_id], max_results=1000)

    before = len(runs())
    done = snakemake(root, "--cores", "2", env=env)
    assert PASSWORD not in done.stdout + done.stderr
    new = runs()[: len(runs()) - before]  # newest first
    assert sorted(r.info.run_name for r in new) == ["data-curve", "landscape-N1_all", "train-N1"]
    assert {r.info.status for r in new} == {"FINISHED"}
    leaked = [p for p in root.rglob("*") if p.is_file() and PASSWORD.encode() in p.read_bytes()]
    assert leaked == []
    # a server that does not answer: the message names the address without its password
    dead = f"http://alice:{PASSWORD}@127.0.0.1:9/"
    failed = snakemake(root, "--cores", "1", "--forcerun", "landscape",
                       env={"MLFLOW_TRACKING_URI": dead}, check=False)
    assert failed.returncode != 0 and "does not answer" in failed.stdout + failed.stderr
    assert PASSWORD not in failed.stdout + failed.stderr
    assert "alice:" not in failed.stdout + failed.stderr
    assert not [p for p in root.rglob("*") if p.is_file() and PASSWORD.encode() in p.read_bytes()]


def test_redact_hides_credentials_and_secret_values(monkeypatch):
    from sklandscape.pipeline.tracking.settings import redact

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok-123456")
    assert redact("http://u:p@h:5000/x and https://tok@h") == "http://***@h:5000/x and https://***@h"
    assert redact("Bearer tok-123456") == "Bearer ***"
    assert redact("sqlite:///mlflow.db") == "sqlite:///mlflow.db"
