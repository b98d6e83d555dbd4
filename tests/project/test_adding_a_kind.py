"""Adding a kind takes at most four files (docs/architecture.md, "Adding a kind"): on a copy
of the repository, the toy kind `line` (tests/project/toy_kind/line.py) gets its module, its
registry entry and its schema section, `make config-docs` regenerates the config reference,
and then, with nothing else edited, the registry's and the schema's tests pass, the pipeline
makes its rule, table, figure and MLflow run, and its table equals `sl.line`'s."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from workflow_support import REPO

pytestmark = pytest.mark.pipeline

HERE = Path(__file__).parent

ENTRY = '''    Kind("line", "landscape", "sklandscape.api.line",
         "along theta + t d, d a filter-normalised random direction",
         {"resolution": RESOLUTION, "span": SPAN,
          "random_state": {"type": "integer", "minimum": 0}},
         result="sklandscape.api.line:line_result", example={"resolution": 11, "span": 0.5}),
'''
SECTION = '''  line_landscape:
    type: object
    additionalProperties: false
    properties:
      network: {}
      resolution: {}
      kind: {const: line}
      span:
        type: number
        exclusiveMinimum: 0
        maximum: 1.0e+100
        default: 1.0
        description: How far the line goes each way, in units of its direction.
      random_state:
        type: integer
        minimum: 0
        default: 0
        description: The seed of the direction.
      objective: *objective
      samples: *samples

'''
CONFIG = {
    "experiment": "toy-kind",
    "datasets": {"curve": {"function": "sine", "n_samples": 40, "domain": [[-3.0, 3.0]],
                           "sampling": "grid"}},
    "networks": {"N1": {"dataset": "curve", "hidden_layer_sizes": [3], "solver": "lbfgs",
                        "max_iter": 300, "random_state": 0}},
    "landscapes": {"N1_line": {"network": "N1", "kind": "line", "resolution": 11, "span": 0.5}},
}
CHECK = '''
import sys
import numpy as np, pandas as pd, sklandscape as sl
from sklandscape import io
from workflow_support import trained_network
root, config = sys.argv[1], {"networks": {"N1": {"dataset": "curve"}}}
from pathlib import Path
model, X, y, _ = trained_network(Path(root), config, "N1")
result = sl.line(model, X, y, resolution=11, span=0.5, name="N1_line", network="N1",
                 progress=False)
frame, metadata = io.read_table(Path(root) / "results/landscapes/N1_line.parquet")
pd.testing.assert_frame_equal(result.frame, frame, check_exact=True)
assert metadata["landscape"] == result.metadata["landscape"], metadata["landscape"]
centre = np.mean((model.predict(X) - y) ** 2)  # t = 0: the trained weights, objective MSE
assert abs(frame["loss"][5] - centre) <= 1e-12 * max(1.0, centre), (frame["loss"][5], centre)
print(sl.line.__module__)
'''


def _run(command, cwd, env=None):
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def _copy(tmp_path: Path) -> Path:
    """The repository's tracked files (as committed or edited here), in a git repository of
    their own."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    copy = tmp_path / "repo"
    for name in listed.stdout.decode().split("\0"):
        if name and (REPO / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, copy / name)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    _run(["git", "init", "-q"], copy)
    _run(["git", "add", "-A"], copy)
    _run([*git, "commit", "-q", "-m", "copy"], copy)
    return copy


def _insert(path: Path, before: str, text: str) -> None:
    source = path.read_text()
    assert source.count(before) == 1, (path, before)
    path.write_text(source.replace(before, text + before))


def test_a_new_kind_takes_four_files_and_runs_in_the_api_and_the_pipeline(tmp_path):
    copy = _copy(tmp_path)
    # 1. its module
    shutil.copy(HERE / "toy_kind" / "line.py", copy / "src/sklandscape/api/line.py")
    # 2. its registry entry
    _insert(copy / "src/sklandscape/kinds.py", ")\n\nKINDS = {", ENTRY)
    # 3. its schema section: the kind in the enum, its branch, its options
    schema = copy / "workflow/schemas/config.schema.yaml"
    _insert(schema, "]\n        description: >-\n          `input_space`: the loss", ", line")
    _insert(schema, "\n\n  input_space_landscape:",
            '\n      - if: {required: [kind], properties: {kind: {const: line}}}'
            '\n        then: {$ref: "#/$defs/line_landscape"}')
    _insert(schema, "  analysis:\n    type: object", SECTION)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(copy / "src"), str(copy / "tests")])}
    # 4. the config reference, regenerated
    _run([sys.executable, "tools/config_docs.py"], copy, env)

    changed = _run(["git", "status", "--porcelain"], copy).splitlines()
    assert len(changed) <= 4, changed
    assert sorted(line[3:] for line in changed) == [
        "config/README.md", "src/sklandscape/api/line.py", "src/sklandscape/kinds.py",
        "workflow/schemas/config.schema.yaml"]

    # the registry's, the options' and the docs' checks hold with the kind in them
    _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
          "tests/unit/test_kinds.py", "tests/unit/api/test_options.py",
          "tests/workflow/test_conventions.py", "-k",
          "kind or schema or default or rule or config_docs or readme"], copy, env)

    # the pipeline: its rule, its table, figure and run, from the copy's workflow
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(copy / "workflow", work / "workflow")
    shutil.copytree(copy / "profiles", work / "profiles")
    (work / "config").mkdir()
    (work / "config/config.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{work / 'mlflow.db'}"
    log = _run([sys.executable, "-m", "snakemake", "--nocolor", "--cores", "2"], work, env)
    assert "rule line:" in log or "localrule line:" in log, log[-2000:]
    for made in ("landscapes/N1_line.parquet", "figures/landscape_N1_line.png"):
        assert (work / "results" / made).stat().st_size > 0, made
    # the API's table equals the pipeline's, and the loss at t = 0 is the model's own
    checked = _run([sys.executable, "-c", CHECK, str(work)], work, env)
    assert "sklandscape.api.line" in checked, checked
    # and a second run has nothing to do
    again = _run([sys.executable, "-m", "snakemake", "--nocolor", "--cores", "2", "-n"], work, env)
    assert "Nothing to be done" in again, again[-2000:]
