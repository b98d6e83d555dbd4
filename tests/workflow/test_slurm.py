"""The SLURM profile on a real cluster: a single-node SLURM (munge, slurmctld, slurmd on
127.0.0.1, no accounting database) started for this test, a real `mlflow server`, and
`snakemake --workflow-profile profiles/slurm` as the docs give it.

Checks that every job ran as a SLURM job, that every run arrived on the server, and that the
tiled landscape's table equals the one-job table byte for byte. Skipped, saying why, where
SLURM cannot be started (its Debian packages absent, or not root).
"""

from __future__ import annotations

import subprocess
import time

import pytest
from mlflow.tracking import MlflowClient

from service_support import mlflow_server
from slurm_support import plugin_python, single_node_slurm, slurm_unavailable
from workflow_support import make_workspace, planned_jobs

pytestmark = pytest.mark.pipeline

SPEC = {"network": "N1", "kind": "weights", "axes": ["W1[0,0]", "b1[1]"], "span": 1.5,
        "resolution": 31, "samples": "all"}
CONFIG = {
    "experiment": "sklandscape-slurm",
    "datasets": {"curve": {"function": "sine", "n_samples": 40, "domain": [[-3.14159, 3.14159]],
                           "sampling": "grid"}},
    "networks": {"N1": {"dataset": "curve", "hidden_layer_sizes": [2], "max_iter": 300}},
    "landscapes": {"whole": dict(SPEC), "tiled": dict(SPEC, tiles=3)},
}


@pytest.fixture(scope="module")
def cluster_run(tmp_path_factory):
    reason = slurm_unavailable()
    if reason:
        pytest.skip(f"no SLURM cluster here: {reason}")
    scratch = tmp_path_factory.mktemp("slurm")
    python = plugin_python(scratch / "venv")
    root = make_workspace(scratch / "work", CONFIG)
    jobs = planned_jobs(root)
    with single_node_slurm(scratch / "cluster") as env, \
            mlflow_server(f"sqlite:///{scratch / 'server.db'}", scratch / "server.log",
                          artifacts=scratch / "artifacts") as url:
        env = {**env, "MLFLOW_TRACKING_URI": url}
        started = time.monotonic()
        result = subprocess.run(
            [str(python), "-m", "snakemake", "--workflow-profile", "profiles/slurm", "--nocolor"],
            cwd=root, env=env, capture_output=True, text=True, timeout=900)
        seconds = time.monotonic() - started
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
        queue = subprocess.run(["squeue", "--states=all", "-h", "-o", "%i %j %T"], env=env,
                               capture_output=True, text=True, check=True).stdout
        client = MlflowClient(url)
        experiment = client.get_experiment_by_name(CONFIG["experiment"])
        runs = client.search_runs([experiment.experiment_id], max_results=1000)
        print(f"{len(jobs)} jobs on SLURM in {seconds:.1f} s")
        yield root, jobs, runs, queue, result.stdout + result.stderr


def test_every_job_runs_as_a_slurm_job_and_logs_its_run_to_the_server(cluster_run):
    _, jobs, runs, queue, _ = cluster_run
    # the gathered landscape's run is named like an untiled one's
    expected = sorted(f"{rule.replace('landscape_gather', 'landscape')}-"
                      f"{'-'.join(v.split('=')[1] for v in wildcards.split(', '))}"
                      for rule, wildcards in jobs)
    assert sorted(run.info.run_name for run in runs) == expected
    assert {run.info.status for run in runs} == {"FINISHED"}
    completed = {line.split()[0] for line in queue.splitlines() if line.endswith("COMPLETED")}
    slurm_ids = {run.info.run_name: run.data.tags.get("slurm_job_id") for run in runs}
    assert None not in slurm_ids.values(), slurm_ids
    assert set(slurm_ids.values()) <= completed, (slurm_ids, queue)
    # the profile groups a dataset with the networks trained on it: one cluster job for both;
    # every other job is a cluster job of its own
    assert slurm_ids["data-curve"] == slurm_ids["train-N1"], slurm_ids
    others = [job for name, job in slurm_ids.items() if name not in ("data-curve", "train-N1")]
    assert len(set(others)) == len(others) and slurm_ids["data-curve"] not in others


def test_the_tiled_table_equals_the_one_job_table_byte_for_byte(cluster_run):
    root = cluster_run[0]
    whole = (root / "results/landscapes/whole.parquet").read_bytes()
    assert (root / "results/landscapes/tiled.parquet").read_bytes() == whole
    assert not list((root / "results/.tracking").glob("*.json"))  # every record logged


def test_without_accounting_the_status_comes_from_squeue_and_nothing_hangs(cluster_run):
    """The cluster has no slurmdbd: `sacct` fails there, and with it the plugin's default
    status checks; the profile's squeue works. The run's own output says nothing of sacct."""
    said = cluster_run[4]
    assert "accounting storage is disabled" not in said and "Traceback" not in said
    assert "View run" not in said  # no per-run URL noise from mlflow
