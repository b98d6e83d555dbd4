"""Provenance tells the truth about the code: an edit to the library reruns the jobs whose
code it changes (and only those), reverting it reruns them again, and every table names the
commit, whether the tree differed from it, and the hash of the code that made it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import sklandscape
from sklandscape import io
from workflow_support import make_workspace, planned_jobs, snakemake

pytestmark = pytest.mark.pipeline

CONFIG = {
    "experiment": "sklandscape-code",
    "datasets": {"curve": {"function": "sine", "n_samples": 30, "domain": [[-3.0, 3.0]],
                           "sampling": "grid"}},
    "networks": {"N1": {"dataset": "curve", "hidden_layer_sizes": [2], "max_iter": 200}},
    "landscapes": {"N1_slice": {"network": "N1", "kind": "weights",
                                "axes": ["W1[0,0]", "W2[0,0]"], "span": 1.0, "resolution": 7}},
    "analyses": {"N1_curvature": {"kind": "curvature", "landscape": "N1_slice"}},
}
# Code that the curvature job runs (its figures), and that training and data jobs do not
EDITED = Path(sklandscape.__file__).parent / "figures" / "curvature.py"


def _rules(root) -> set[str]:
    return {rule for rule, _ in planned_jobs(root)}


def test_an_edit_reruns_the_jobs_that_run_it_and_a_revert_reruns_them_again(tmp_path):
    root = make_workspace(tmp_path, CONFIG)
    snakemake(root, "--cores", "2")
    assert _rules(root) == set()
    table = root / "results" / "analyses" / "N1_curvature" / "hessian.parquet"
    before = io.read_metadata(table)["provenance"]
    original = EDITED.read_bytes()
    try:
        EDITED.write_bytes(original + b"\n# an edit to the figure code\n")
        edited = _rules(root)
        assert "curvature" in edited
        assert not edited & {"data", "train", "landscape"}, edited
        snakemake(root, "--cores", "2")
        after = io.read_metadata(table)["provenance"]
        assert after["code_sha256"] != before["code_sha256"]
        assert after["code_dirty"] is True  # the checkout's file differs from its commit
        head = subprocess.run(["git", "-C", str(EDITED.parent), "rev-parse", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        assert after["code_commit"] == head and re.fullmatch(r"[0-9a-f]{40}", head)
    finally:
        EDITED.write_bytes(original)
    assert _rules(root) == edited  # reverted: the same jobs again, with the code as it was
    snakemake(root, "--cores", "2")
    assert io.read_metadata(table)["provenance"]["code_sha256"] == before["code_sha256"]
