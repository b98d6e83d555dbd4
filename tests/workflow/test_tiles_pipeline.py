"""Tiles end to end: a landscape split over several Snakemake jobs equals the one-job table."""

from __future__ import annotations

import itertools
import os

import pytest

from sklandscape import io
from workflow_support import make_workspace, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.pipeline

SPEC = {"network": "N1", "kind": "weights", "axes": ["W1[0,0]", "b1[1]"], "span": 1.5,
        "resolution": 9, "samples": "all"}
CONFIG = {
    "experiment": "sklandscape-tiles",
    "datasets": {"curve": {"function": "sine", "n_samples": 40, "domain": [[-3.14159, 3.14159]],
                           "sampling": "grid"}},
    "networks": {"N1": {"dataset": "curve", "hidden_layer_sizes": [2], "activation": "tanh",
                        "solver": "lbfgs", "max_iter": 300, "random_state": 0}},
    # the same landscape twice: once as one job, once as three tiles and a gather
    "landscapes": {"whole": dict(SPEC), "tiled": dict(SPEC, tiles=3)},
}
TILED_JOBS = [("landscape_gather", "landscape=tiled")]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("tiles"), CONFIG)
    planned = planned_jobs(root)
    assert [job for job in planned if job[0] == "landscape_tile"] == [
        ("landscape_tile", f"landscape=tiled, tile={t}") for t in range(3)
    ]
    snakemake(root, "--cores", "2")
    return root




def test_tiled_table_is_the_one_job_table_byte_for_byte(workspace):
    whole = workspace / "results/landscapes/whole.parquet"
    tiled = workspace / "results/landscapes/tiled.parquet"
    assert tiled.read_bytes() == whole.read_bytes()
    table, meta = io.read_table(tiled)
    assert len(table) == 81 and "tile" not in meta
    assert table.equals(io.read_table(whole)[0])


def test_tiles_are_temporary(workspace):
    assert not list((workspace / "results/landscapes").glob("tiles/*/*.parquet"))


def test_every_tile_and_the_gather_log_one_finished_run(runs):
    _, runs = runs
    names = sorted(n for n in runs if "tiled" in n)
    # the gathered landscape's run is named like a one-job landscape's, its tiles under it
    assert names == ["landscape-tiled",
                     "landscape_tile-tiled-0", "landscape_tile-tiled-1", "landscape_tile-tiled-2"]
    assert {runs[n].info.status for n in names} == {"FINISHED"}
    train = runs["train-N1"].info.run_id
    tiles = [runs[f"landscape_tile-tiled-{t}"] for t in range(3)]
    gather = runs["landscape-tiled"]
    assert gather.data.tags["upstream_run_id"] == train  # linked, not nested
    assert all(r.data.tags["mlflow.parentRunId"] == gather.info.run_id for r in tiles)
    assert gather.data.tags["tile_runs"].split() == [r.info.run_id for r in tiles]
    # the gather's summary is the whole table's
    whole = runs["landscape-whole"].data.metrics
    assert gather.data.metrics["loss_min"] == whole["loss_min"]
    assert gather.data.metrics["n_points"] == 81
    assert sum(r.data.metrics["n_points"] for r in tiles) == 81


def test_nothing_to_do_after_the_run(workspace):
    assert planned_jobs(workspace) == []


def test_writing_the_default_tiles_reruns_nothing(workspace, edited):
    edited["landscapes"]["whole"]["tiles"] = 1
    write_config(workspace, edited)
    assert planned_jobs(workspace) == []


def test_changing_tiles_reruns_that_landscape_only(workspace, edited):
    edited["landscapes"]["tiled"]["tiles"] = 2
    write_config(workspace, edited)
    assert planned_jobs(workspace) == sorted(
        TILED_JOBS + [("landscape_tile", f"landscape=tiled, tile={t}") for t in range(2)]
    )


def test_more_tiles_than_rows_is_refused_by_name(workspace, edited):
    edited["landscapes"]["tiled"]["tiles"] = 10
    write_config(workspace, edited)
    result = snakemake(workspace, "-n", check=False)
    assert result.returncode != 0
    assert "landscapes.tiled.tiles: 10 tiles, more than the grid's 9 rows" in result.stdout + result.stderr


def most_jobs_at_once(output: str) -> int:
    """The most jobs Snakemake had started and not yet finished, read from its own log in
    order: independent of how long each job takes or how loaded the machine is."""
    counts = itertools.accumulate(
        1 if line.startswith(("localrule ", "rule ")) else -1
        for line in output.splitlines()
        if line.startswith(("localrule ", "rule ", "Finished jobid"))
    )
    return max(counts)


@pytest.mark.skipif((os.cpu_count() or 1) >= 4, reason="needs fewer CPUs than --cores 4")
def test_local_runs_hold_one_job_per_cpu_whatever_cores_says(tmp_path):
    """Four tiles are ready at once; `--cores 4` runs only as many as there are CPUs, unless
    the command line lifts the cap (then all four run together: the check can fail)."""
    config = dict(CONFIG, landscapes={"tiled": dict(SPEC, tiles=4)})
    targets = ["results/landscapes/tiled.parquet"]
    capped = snakemake(make_workspace(tmp_path / "capped", config), "--cores", "4", *targets)
    log = capped.stdout + capped.stderr
    assert f'cpu_slots=Resource("cpu_slots", {os.cpu_count()})' in log
    assert most_jobs_at_once(log) == os.cpu_count()
    lifted = make_workspace(tmp_path / "lifted", config)
    uncapped = snakemake(lifted, *targets, "--cores", "4", "--resources", "cpu_slots=4")
    assert most_jobs_at_once(uncapped.stdout + uncapped.stderr) == 4
