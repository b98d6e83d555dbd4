"""--cores used inside one big job: Snakemake's --set-threads gives a landscape rule threads,
the job passes them as n_jobs, its rows or points are split over that many worker processes,
and the tables are the same as a one-thread run's; a change of threads reruns nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sklandscape import io
from workflow_support import make_workspace, planned_jobs, snakemake

pytestmark = pytest.mark.pipeline

CONFIG = {
    "experiment": "sklandscape-threads-test",
    "datasets": {"wine": {"sklearn": "wine"}},
    "networks": {"W": {"dataset": "wine", "estimator": "classifier", "hidden_layer_sizes": [6],
                       "max_iter": 60, "random_state": 0, "holdout": 0.25, "seeds": [0, 1, 2]}},
    "landscapes": {
        "W_slice": {"network": "W", "kind": "weights", "axes": ["W1[0,1]", "W2[2,0]"],
                    "span": 1.0, "resolution": 41},
        "W_plane": {"network": "W", "kind": "random_plane", "seeds": [0], "resolution": 21},
    },
    "analyses": {"W_links": {"kind": "connectivity", "network": "W", "resolution": 9,
                             "curve_max_iter": 5, "plane_resolution": 5},
                 "W_rates": {"kind": "learning_rates", "network": "W", "momenta": [0.0, 0.9],
                             "factors": [0.5, 1.5], "max_iter": 20}},
}
TABLES = ["landscapes/W_slice.parquet", "landscapes/W_plane.parquet",
          "analyses/W_links/pairs.parquet", "analyses/W_links/paths.parquet",
          "analyses/W_rates/rates.parquet", "analyses/W_rates/curves.parquet"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    one = make_workspace(tmp_path_factory.mktemp("one_thread"), CONFIG)
    snakemake(one, "--cores", "2")
    two = make_workspace(tmp_path_factory.mktemp("two_threads"), CONFIG)
    snakemake(two, "--cores", "2", "--set-threads", "landscape=2", "random_plane=2",
              "connectivity=2", "learning_rates=2")
    return one, two


def test_threads_become_worker_processes_with_the_same_tables(runs):
    one, two = runs
    for root, workers in ((one, None), (two, 2)):
        for folder, name in (("landscape", "W_slice"), ("landscape", "W_plane"),
                             ("analysis", "W_links"), ("analysis", "W_rates")):
            text = (root / "results" / "logs" / folder / f"{name}.log").read_text()
            said = f"over {workers} worker processes (n_jobs={workers})"
            assert (said in text) == (workers is not None), (root, name, text[-2000:])
    for table in TABLES:
        first, _ = io.read_table(one / "results" / table)
        second, _ = io.read_table(two / "results" / table)
        pd.testing.assert_frame_equal(first, second, check_exact=True)


def test_a_change_of_threads_reruns_nothing(runs):
    one, _ = runs
    env = {}
    assert planned_jobs(one, env) == []
    output = snakemake(one, "-n", "--cores", "2", "--set-threads", "landscape=2",
                       "random_plane=2").stdout
    assert "Nothing to be done" in output or "rule landscape" not in output


def test_a_pipeline_table_is_re_plotted_in_a_notebook(runs):
    """Display.from_parquet on the files the jobs wrote: both landscapes on one figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import sklandscape as sl

    one, _ = runs
    fig, (left, right) = plt.subplots(1, 2)
    first = sl.LandscapeDisplay.from_parquet(one / "results" / TABLES[0]).plot(ax=left)
    second = sl.LandscapeDisplay.from_parquet(one / "results" / TABLES[1],
                                              value="accuracy").plot(ax=right)
    assert first.figure_ is second.figure_ is fig
    frame, _ = io.read_table(one / "results" / TABLES[0])
    assert first.values.shape == (41, 41) and np.nanmin(first.values) == frame["loss"].min()
    assert left.get_xlabel() == "W1[0,1]" and "W_slice" in left.get_title()
    plt.close(fig)
