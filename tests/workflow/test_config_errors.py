"""Bad config and bad data files: the message a user sees from `snakemake -n`, before any job.

Every problem is reported at once, so each group of cases below shares one dry run on a
config that contains all of them (each case under its own names, so none hides another);
each case is still its own test, asserting its own line of the message.
"""

from __future__ import annotations

import copy
import os
import time

import numpy as np
import pandas as pd
import pytest

from workflow_support import SMALL_CONFIG, make_workspace, snakemake

pytestmark = pytest.mark.pipeline


def _problems(result) -> list[str]:
    """The '  - ...' lines of the ConfigError snakemake printed."""
    assert result.returncode != 0, result.stdout + result.stderr
    text = result.stderr + result.stdout
    assert "invalid config (config/config.yaml)" in text, text
    return [line[4:] for line in text.splitlines() if line.startswith("  - ")]


# --- what the schema catches (one dry run) ---------------------------------------------

SCHEMA_CASES = {
    "unknown top-level key": (
        lambda c: c.update(landscape={}),
        "config: unknown key 'landscape' (did you mean 'landscapes'?); allowed keys: "
        "experiment, datasets, networks, landscapes"),
    "unknown nested key": (
        lambda c: c["landscapes"]["N1_one"].update(colour="red"),
        "landscapes.N1_one: unknown key 'colour'; allowed keys: network, resolution, "
        "topology_threshold, kind, axes, span, objective, samples, tiles"),
    "a key renamed to scikit-learn's name": (
        lambda c: c["landscapes"].update({"N1_h": {"network": "N1", "kind": "hessian_plane",
                                                   "resolution": 5, "seed": 3}}),
        "landscapes.N1_h: unknown key 'seed' (renamed 'random_state': see the changelog)"),
    "a kind renamed not to shadow a builtin": (
        lambda c: c["landscapes"].update({"N2_in": {"network": "N2", "kind": "input",
                                                    "resolution": 5}}),
        "landscapes.N2_in.kind: 'input' is not one of 'input_space', 'weights', 'weight_pairs', "
        "'random_plane', 'hessian_plane', 'interpolation', 'trajectory_pca' (renamed "
        "'input_space': see the changelog)"),
    "wrong type (string for integer)": (
        lambda c: c["datasets"]["curve"].update(n_samples="40"),
        "datasets.curve.n_samples: '40' is not an integer"),
    "wrong type (number for list)": (
        lambda c: c["networks"]["N1"].update(hidden_layer_sizes=2),
        "networks.N1.hidden_layer_sizes: 2 is not a list"),
    "resolution below 2": (
        lambda c: c["landscapes"]["N1_one"].update(resolution=1),
        "landscapes.N1_one.resolution: 1 is less than the minimum of 2"),
    "span zero": (
        lambda c: c["landscapes"]["N1_all"].update(span=0),
        "landscapes.N1_all.span: 0 is less than or equal to the minimum of 0"),
    "span beyond float64's reach": (
        lambda c: c["landscapes"].update(huge={"network": "N1", "kind": "weights", "resolution": 3,
                                               "axes": ["b1[0]", "b2[0]"], "span": 1e101}),
        "landscapes.huge.span: 1e+101 is greater than the maximum of 1e+100"),
    "negative noise": (
        lambda c: c["datasets"]["surface"].update(noise=-0.1),
        "datasets.surface.noise: -0.1 is less than the minimum of 0"),
    "unknown bundled data set": (
        lambda c: c["datasets"].update(mn={"sklearn": "mnist"}),
        "datasets.mn.sklearn: 'mnist' is not one of 'diabetes', 'breast_cancer', 'iris', 'wine', "
        "'digits'"),
    "held-out share outside (0, 1)": (
        lambda c: c["networks"]["N2"].update(holdout=1.5),
        "networks.N2.holdout: 1.5 is greater than or equal to the maximum of 1"),
    "unknown estimator": (
        lambda c: c["networks"]["N1"].update(estimator="svm"),
        "networks.N1.estimator: 'svm' is not one of 'regressor', 'classifier'"),
    "unknown activation": (
        lambda c: c["networks"]["N2"].update(activation="sigmoid"),
        "networks.N2.activation: 'sigmoid' is not one of 'identity', 'logistic', 'tanh', 'relu'"),
    "landscape without kind": (
        lambda c: c["landscapes"].update(nokind={"network": "N1", "resolution": 3}),
        "landscapes.nokind: missing key 'kind'"),
    "malformed weight name": (
        lambda c: c["landscapes"].update(badname={"network": "N1", "kind": "weights", "resolution": 3,
                                                  "axes": ["W1[0]", "b2[0]"], "span": 1.0}),
        "landscapes.badname.axes[0]: 'W1[0]' is not allowed: a weight name, W{l}[i,j] or b{l}[j]"),
    "name that cannot be a file name": (
        lambda c: c["landscapes"].update({"bad-name": {"network": "N2", "kind": "input_space",
                                                       "resolution": 3}}),
        "landscapes: name 'bad-name' is not allowed: Letters, digits and underscores"),
    "negative sample index": (
        lambda c: c["landscapes"]["N1_all"].update(samples=-3),
        "landscapes.N1_all.samples: -3 is not allowed here: Data rows the loss is averaged over"),
    "user dataset without target": (
        lambda c: c["datasets"].update(mine={"path": "data/mine.csv", "features": ["a"]}),
        "datasets.mine: missing key: one of 'target', 'targets' (Your own data, a CSV or "
        "Parquet file"),
    "generated dataset without function": (
        lambda c: c["datasets"].update(gen={"n_samples": 5, "domain": [[0, 1]]}),
        "datasets.gen: missing key: one of 'function', 'sklearn', 'path' (A generated dataset "
        "(function, n_samples, domain), one of scikit-learn's bundled data sets (sklearn), or your "
        "own file (path, features, target): exactly one of function, sklearn and path.)"),
}


def _schema_config() -> dict:
    config = copy.deepcopy(SMALL_CONFIG)
    for edit, _ in SCHEMA_CASES.values():
        edit(config)
    return config


@pytest.fixture(scope="module")
def schema_run(tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("schema_errors"), _schema_config())
    return root, snakemake(root, "-n", "--cores", "1", check=False)


@pytest.mark.parametrize("case", list(SCHEMA_CASES))
def test_schema_problem_is_named_by_key_path(schema_run, case):
    _, result = schema_run
    expected = SCHEMA_CASES[case][1]
    problems = _problems(result)
    assert [p for p in problems if p.startswith(expected)], f"{expected!r} not in {problems}"


def test_every_schema_problem_is_reported_at_once(schema_run):
    _, result = schema_run
    problems = _problems(result)
    assert len(problems) == len(SCHEMA_CASES)
    assert f"{len(SCHEMA_CASES)} problems:" in result.stdout + result.stderr


def test_a_real_run_on_bad_config_writes_nothing(schema_run):
    root, _ = schema_run
    result = snakemake(root, "--cores", "1", check=False)
    assert _problems(result)
    assert not (root / "results").exists() and not (root / "mlflow.db").exists()
    assert not (root / "mlruns").exists()


# --- what only the data and the cross-references tell (one dry run) ---------------------


def _write_data_files(data):
    data.mkdir()
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (12, 2))
    good = pd.DataFrame({"id": range(12), "height": X[:, 0], "width": X[:, 1], "price": X.sum(1)})
    good.to_csv(data / "good.csv", index=False)
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 0], "t": X[:, 1]}).to_parquet(data / "wide.parquet")
    (data / "empty.csv").write_text("")
    (data / "header_only.csv").write_text("height,width,price\n")
    text = good.to_csv(index=False).splitlines()
    text[4] = text[4].replace(text[4].split(",")[2], "abc")  # row 3, column width
    (data / "not_numeric.csv").write_text("\n".join(text) + "\n")
    nan = good.copy()
    nan.loc[2, "price"] = np.nan
    nan.to_csv(data / "nan.csv", index=False)
    inf = good.copy()
    inf.loc[0, "height"] = np.inf
    inf.to_csv(data / "inf.csv", index=False)
    good.iloc[:1].to_csv(data / "one_row.csv", index=False)
    (data / "table.txt").write_text("height,width,price\n1,2,3\n")
    (data / "garbage.parquet").write_bytes(b"PAR1 this is not parquet")
    species = good.assign(kind=np.where(X[:, 0] > 0.5, "oak", "elm"))
    species.to_csv(data / "species.csv", index=False)
    species.assign(kind=["ash"] + ["oak"] * 11).to_csv(data / "rare.csv", index=False)
    text = good.to_csv(index=False).splitlines()
    text[2] = ",".join(v if k != 2 else "NA" for k, v in enumerate(text[2].split(",")))
    (data / "na.csv").write_text("\n".join(text) + "\n")
    huge = good.copy()
    huge.loc[1, "height"] = 1e300
    huge.to_csv(data / "huge.csv", index=False)
    (data / "semicolons.csv").write_text("height;width;price\n1;2;3\n4;5;6\n")
    (data / "twice.csv").write_text("height,width,width,price\n1,2,3,4\n5,6,7,8\n")
    nulls = good.drop(columns="id").copy()
    nulls.loc[4, "width"] = None
    nulls.to_parquet(data / "nulls.parquet")


def _file(name, path, features=("height", "width"), target="price"):
    return {name: {"path": f"data/{path}", "features": list(features), "target": target}}


def _net(name, dataset, hidden=(2,)):
    return {name: {"dataset": dataset, "hidden_layer_sizes": list(hidden)}}


def _weights(name, network, axes, samples="all"):
    return {name: {"network": network, "kind": "weights", "resolution": 3, "span": 1.0,
                   "axes": list(axes), "samples": samples}}


DATA_CASES = {
    "network on an undefined dataset": (
        lambda c: c["networks"].update(_net("N9", "curv")),
        "networks.N9.dataset: 'curv' is not defined under datasets (did you mean 'curve'?); "
        "defined: curve, surface,"),
    "landscape on an undefined network": (
        lambda c: c["landscapes"].update({"L9": {"network": "N7", "kind": "input_space", "resolution": 3}}),
        "landscapes.L9.network: 'N7' is not defined under networks; defined: N1, N2,"),
    "input landscape on a 1-D network": (
        lambda c: c["landscapes"].update({"N1_in": {"network": "N1", "kind": "input_space", "resolution": 3}}),
        "landscapes.N1_in: kind 'input_space' maps the loss over two input features, but dataset 'curve' "
        "has 1 (40 samples over a 1-D domain)"),
    "input feature the data does not have": (
        lambda c: (c["datasets"].update(_file("wide", "wide.parquet", ("a", "b", "c"), "t")),
                   c["networks"].update(_net("NW", "wide")),
                   c["landscapes"].update({"NW_in": {"network": "NW", "kind": "input_space", "resolution": 3,
                                                     "features": ["a", "bb"]}})),
        "landscapes.NW_in.features[1]: dataset 'wide' has no feature 'bb' (did you mean 'b'?); its "
        "features: a, b, c"),
    "input reference row past the data": (
        lambda c: c["landscapes"].update({"NW_ref": {"network": "NW", "kind": "input_space",
                                                     "resolution": 3, "reference": 12}}),
        "landscapes.NW_ref.reference: row 12 is out of range: dataset 'wide' has 12 rows "
        "(valid 0..11)"),
    "string target for a regressor": (
        lambda c: (c["datasets"].update(_file("species", "species.csv", ("height", "width"), "kind")),
                   c["networks"].update(_net("NS", "species"))),
        "networks.NS.estimator: a regressor needs numeric targets, but dataset 'species''s target "
        "holds labels such as 'oak'; set estimator: classifier"),
    "classifier on a continuous target": (
        lambda c: (c["datasets"].update(diab={"sklearn": "diabetes"}),
                   c["networks"].update({"NC": {"dataset": "diab", "estimator": "classifier",
                                                "hidden_layer_sizes": [2]}})),
        "networks.NC.estimator: a classifier needs class labels, but dataset 'diab''s target has 214 "
        "distinct values in 442 rows (a continuous target?); use estimator: regressor"),
    "a class too small to stratify": (
        lambda c: (c["datasets"].update(_file("rare", "rare.csv", ("height", "width"), "kind")),
                   c["networks"].update({"NR": {"dataset": "rare", "estimator": "classifier",
                                                "hidden_layer_sizes": [2], "holdout": 0.25}})),
        "networks.NR.holdout: a stratified hold-out needs at least 2 rows of every class; class "
        "'ash' of dataset 'rare' has 1"),
    "bundled feature that does not exist": (
        lambda c: c["datasets"].update(diab2={"sklearn": "diabetes", "features": ["bmi", "height"]}),
        "datasets.diab2.features: diabetes has no feature(s) ['height']; its features are ['age', "
        "'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6']"),
    "weight the network does not have": (
        lambda c: c["landscapes"].update(_weights("N1_bad", "N1", ["W1[0,0]", "W2[0,1]"])),
        "landscapes.N1_bad.axes[1]: network 'N1' (layer sizes [1, 2, 1]) has no weight 'W2[0,1]'; "
        "its weights are: W1[0,0], W1[0,1], b1[0], b1[1], W2[0,0], W2[1,0], b2[0]"),
    "weight a big network does not have": (
        lambda c: c["landscapes"].update(_weights("N2_bad", "N2", ["W3[0,1]", "b1[0]"])),
        "landscapes.N2_bad.axes[0]: network 'N2' (layer sizes [2, 4, 3, 1]) has no weight 'W3[0,1]'; "
        "its weights are: W1[i,j] for i in 0..1, j in 0..3; b1[j] for j in 0..3; W2[i,j] for i in "
        "0..3, j in 0..2; b2[j] for j in 0..2; W3[i,j] for i in 0..2, j in 0..0; b3[j] for j in 0..0"),
    "the same weight twice": (
        lambda c: c["landscapes"].update(_weights("N1_twice", "N1", ["b1[0]", "b1[0]"])),
        "landscapes.N1_twice.axes: the two axes must be different weights, got 'b1[0]' twice"),
    "sample index past a generated dataset": (
        lambda c: c["landscapes"].update(_weights("N1_row", "N1", ["b1[0]", "b2[0]"], [3, 40])),
        "landscapes.N1_row.samples: row 40 is out of range: dataset 'curve' has 40 rows (valid 0..39)"),
    "sample index past a user's file": (
        lambda c: (c["datasets"].update(_file("good", "good.csv")), c["networks"].update(_net("NG", "good")),
                   c["landscapes"].update(_weights("NG_row", "NG", ["b1[0]", "b2[0]"], 12))),
        "landscapes.NG_row.samples: row 12 is out of range: dataset 'good' has 12 rows (valid 0..11)"),
    "empty domain interval": (
        lambda c: c["datasets"].update(flat={"function": "paraboloid", "n_samples": 9,
                                             "domain": [[0, 1], [3, -3]]}),
        "datasets.flat.domain[1]: low 3 must be below high -3"),
    "grid that is not a perfect power": (
        lambda c: c["datasets"].update(grid={"function": "paraboloid", "n_samples": 10,
                                             "domain": [[0, 1], [0, 1]], "sampling": "grid"}),
        "datasets.grid.n_samples: sampling 'grid' needs a perfect power of the 2 feature(s), e.g. 9; got 10"),
    "missing file": (
        lambda c: c["datasets"].update(_file("missing", "missing.csv")),
        "datasets.missing.path: data/missing.csv: no such file (relative paths are read from "),
    "empty file": (
        lambda c: c["datasets"].update(_file("empty", "empty.csv")),
        "datasets.empty.path: data/empty.csv: the file is empty"),
    "header but no rows": (
        lambda c: c["datasets"].update(_file("header", "header_only.csv")),
        "datasets.header.path: data/header_only.csv: the file has a header but no data rows"),
    "missing column": (
        lambda c: c["datasets"].update(_file("typo", "good.csv", ("height", "widht"))),
        "datasets.typo.path: data/good.csv: no column 'widht'; its columns are 'id', 'height', "
        "'width', 'price'"),
    "non-numeric value": (
        lambda c: c["datasets"].update(_file("text", "not_numeric.csv")),
        "datasets.text.path: data/not_numeric.csv: column 'width', row 3 (line 5): 'abc' is not a number"),
    "NaN (empty cell)": (
        lambda c: c["datasets"].update(_file("nan", "nan.csv")),
        "datasets.nan.path: data/nan.csv: column 'price', row 2 (line 4): empty (NaN); "
        "1 value(s) in this column are not finite numbers"),
    "inf": (
        lambda c: c["datasets"].update(_file("inf", "inf.csv")),
        "datasets.inf.path: data/inf.csv: column 'height', row 0 (line 2): inf (not finite)"),
    "null in a Parquet file": (
        lambda c: c["datasets"].update(_file("nulls", "nulls.parquet")),
        "datasets.nulls.path: data/nulls.parquet: column 'width', row 4: empty (NaN)"),
    "a value whose square overflows": (
        lambda c: c["datasets"].update(_file("huge", "huge.csv")),
        "datasets.huge.path: data/huge.csv: column 'height', row 1 (line 3): 1e+300 is too "
        "large (beyond ±1e+150 its square overflows float64); rescale the column"),
    "NA written in a cell": (
        lambda c: c["datasets"].update(_file("na", "na.csv")),
        "datasets.na.path: data/na.csv: column 'width', row 1 (line 3): 'NA' is not a number"),
    "semicolon-separated file": (
        lambda c: c["datasets"].update(_file("semi", "semicolons.csv")),
        "datasets.semi.path: data/semicolons.csv: no column 'height', 'width', 'price'; its "
        "columns are 'height;width;price' (the header seems to be separated by semicolons: "
        "sklandscape reads comma-separated CSV; save the file with commas)"),
    "two columns of one name": (
        lambda c: c["datasets"].update(_file("twice", "twice.csv")),
        "datasets.twice.path: data/twice.csv: column names given more than once: 'width' "
        "(columns 2, 3); name each column once"),
    "a data file inside the pipeline's outputs": (
        lambda c: c["datasets"].update(_file("houses", "../results/data/houses.parquet")),
        "datasets.houses.path: data/../results/data/houses.parquet is inside the pipeline's own "
        "outputs (results/), which a run rewrites or deletes; keep your data outside it"),
    "fewer rows than training needs": (
        lambda c: (c["datasets"].update(_file("one", "one_row.csv")), c["networks"].update(_net("N_one", "one"))),
        "networks.N_one: dataset 'one' (data/one_row.csv) has 1 row; training needs at least 2"),
    "unsupported file type": (
        lambda c: c["datasets"].update(_file("txt", "table.txt")),
        "datasets.txt.path: data/table.txt: unsupported file type '.txt'; use one of ['.csv', '.parquet']"),
    "unreadable Parquet": (
        lambda c: c["datasets"].update(_file("garbage", "garbage.parquet")),
        "datasets.garbage.path: data/garbage.parquet: not a readable Parquet file ("),
    "target that is also a feature": (
        lambda c: c["datasets"].update(_file("circular", "good.csv", ("height", "price"))),
        "datasets.circular.target: column 'price' is also one of the features"),
}


@pytest.fixture(scope="module")
def data_run(tmp_path_factory):
    config = copy.deepcopy(SMALL_CONFIG)
    for edit, _ in DATA_CASES.values():
        edit(config)
    root = make_workspace(tmp_path_factory.mktemp("data_errors"), config)
    _write_data_files(root / "data")
    return root, snakemake(root, "-n", "--cores", "1", check=False)


@pytest.mark.parametrize("case", list(DATA_CASES))
def test_data_problem_names_file_key_column_and_row(data_run, case):
    _, result = data_run
    expected = DATA_CASES[case][1]
    problems = _problems(result)
    assert [p for p in problems if p.startswith(expected)], f"{expected!r} not in {problems}"


def test_every_data_problem_is_reported_at_once(data_run):
    root, result = data_run
    assert len(_problems(result)) == len(DATA_CASES)
    missing = [p for p in _problems(result) if p.startswith("datasets.missing.path")]
    assert str(root) in missing[0]  # where a relative path was looked for


def test_a_single_problem_says_so(tmp_path):
    config = copy.deepcopy(SMALL_CONFIG)
    config["landscapes"]["N1_one"]["axes"] = ["W1[0,0]", "W9[0,0]"]
    result = snakemake(make_workspace(tmp_path, config), "-n", "--cores", "1", check=False)
    text = result.stdout + result.stderr
    assert "invalid config (config/config.yaml), 1 problem:\n  - landscapes.N1_one.axes[1]: " in text


def test_a_config_that_needs_more_memory_than_the_machine_fails_before_any_job(tmp_path):
    """Estimated from the config alone: the figure of a big grid and an exact Hessian."""
    config = copy.deepcopy(SMALL_CONFIG)
    config["networks"]["N_wide"] = {**config["networks"]["N1"], "hidden_layer_sizes": [100, 50]}
    config["landscapes"]["wide_slice"] = {"network": "N_wide", "kind": "weights",
                                          "axes": ["W1[0,0]", "W2[0,0]"], "span": 1.0,
                                          "resolution": 5001}  # streamed, drawn thinned: fine
    config["landscapes"]["wide_plane"] = {"network": "N_wide", "kind": "random_plane",
                                          "seeds": [0, 1], "resolution": 1501}
    config["analyses"] = {"wide_curvature": {"kind": "curvature", "landscape": "wide_slice",
                                             "full_hessian_max_weights": 20000}}
    root = make_workspace(tmp_path, config)
    result = snakemake(root, "-n", "--cores", "1", env={"SKLANDSCAPE_MEMORY_GB": "0.25"},
                       check=False)
    problems = _problems(result)
    assert result.returncode != 0 and not (root / "results").exists()
    weights = 1 * 100 + 100 + 100 * 50 + 50 + 50 + 1
    assert any(p.startswith("landscapes.wide_plane.resolution: a 1501^2 grid x 2 seeds needs "
                            "~0.8 GiB") for p in problems), problems
    assert not any(p.startswith("landscapes.wide_slice") for p in problems), problems
    assert any(p.startswith(f"analyses.wide_curvature.full_hessian_max_weights: 20000 makes the "
                            f"{weights}-weight network's Hessian exact, which needs ~")
               for p in problems), problems
    # With the default limit the analysis is matrix-free and needs no such memory.
    del config["analyses"]["wide_curvature"]["full_hessian_max_weights"]
    config["landscapes"]["wide_plane"]["resolution"] = 101
    root = make_workspace(tmp_path / "fixed", config)
    assert snakemake(root, "-n", "--cores", "1", env={"SKLANDSCAPE_MEMORY_GB": "0.25"}).returncode == 0


def test_the_large_network_example_config_is_valid(tmp_path):
    """config/digits.yaml (6,570 weights, every kind and analysis) plans every job."""
    import yaml

    from workflow_support import REPO

    config = yaml.safe_load((REPO / "config/digits.yaml").read_text())
    root = make_workspace(tmp_path, config)
    result = snakemake(root, "-n", "--cores", "1")
    planned = {line.split()[0] for line in result.stdout.splitlines()
               if line and line.split()[0] in RULES and len(line.split()) == 2}
    assert planned >= {"train", "landscape", "weight_pairs", "random_plane", "hessian_plane",
                       "interpolation", "trajectory_pca", "curvature", "optimizers",
                       "input_attack"}, result.stdout


RULES = ("data", "train", "landscape", "weight_pairs", "random_plane", "hessian_plane",
         "interpolation", "trajectory_pca", "curvature", "optimizers", "input_attack")


# --- checks whose own cost is bounded ----------------------------------------------------


def _dry_run_bounded(root, seconds=60, memory_gb=4):
    """`snakemake -n` with its address space capped: a check that allocated what it checks
    fails with MemoryError instead of eating the machine, and a hang fails the timeout."""
    import resource
    import subprocess
    import sys

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (memory_gb * 1024**3, memory_gb * 1024**3))

    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
           "OPENBLAS_NUM_THREADS": "1"}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--nocolor"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=seconds,
                            preexec_fn=cap)
    return result, time.monotonic() - started


def test_a_huge_network_or_dataset_is_refused_by_arithmetic_not_by_allocating(tmp_path):
    config = copy.deepcopy(SMALL_CONFIG)
    config["networks"]["N_huge"] = {**config["networks"]["N1"],
                                    "hidden_layer_sizes": [100000, 100000]}
    config["landscapes"]["huge_slice"] = {"network": "N_huge", "kind": "weights",
                                          "axes": ["W2[99999,99999]", "W9[0,0]"], "span": 1.0,
                                          "resolution": 5}
    config["datasets"]["many"] = {"function": "sine", "n_samples": 1_000_000_000, "domain": [[0.0, 1.0]]}
    config["networks"]["N_many"] = {**config["networks"]["N1"], "dataset": "many"}
    root = make_workspace(tmp_path, config)
    result, seconds = _dry_run_bounded(root)
    problems = _problems(result)
    assert seconds < 60 and not (root / "results").exists()
    assert len(problems) == 1 and problems[0].startswith(
        "landscapes.huge_slice.axes[1]: network 'N_huge' (layer sizes [1, 100000, 100000, 1]) "
        "has no weight 'W9[0,0]'; its weights are: W1[i,j] for i in 0..0, j in 0..99999;")
    # named right, what the jobs would need is estimated from the config alone
    config["landscapes"]["huge_slice"]["axes"] = ["W2[99999,99999]", "b1[0]"]
    root = make_workspace(tmp_path / "named", config)
    result, seconds = _dry_run_bounded(root)
    problems = _problems(result)
    assert seconds < 60 and not (root / "results").exists()
    assert any(p.startswith("networks.N_huge.hidden_layer_sizes: layer sizes [1, 100000, 100000, "
                            "1] (10000400001 weights) trained on ") for p in problems), problems
    assert any(p.startswith("datasets.many.n_samples: 1000000000 rows of 1 features need ~")
               for p in problems), problems


def test_a_yaml_alias_bomb_is_refused_in_a_second(tmp_path):
    root = make_workspace(tmp_path, SMALL_CONFIG)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 10)}]" for k in range(1, 9)]
    path = root / "config" / "config.yaml"
    path.write_text(path.read_text() + "\n".join(lines) + "\nbomb: *a8\n")
    result, seconds = _dry_run_bounded(root, seconds=30)
    problems = _problems(result)
    assert seconds < 30
    assert len(problems) == 1 and problems[0].startswith(
        "config/config.yaml: its YAML aliases (*name) expand to 23456")  # 10^9 and more
    assert problems[0].endswith("values, more than 200000; write the values out")


def test_an_interpolation_range_that_is_no_interval_is_refused_before_any_job(tmp_path):
    config = copy.deepcopy(SMALL_CONFIG)
    config["landscapes"]["flat_line"] = {"network": "N1", "kind": "interpolation",
                                         "alpha_range": [1.0, 1.0], "resolution": 11}
    root = make_workspace(tmp_path, config)
    problems = _problems(snakemake(root, "-n", "--cores", "1", check=False))
    assert problems == ["landscapes.flat_line.alpha_range: [1.0, 1.0] is no interval: the first value "
                        "(alpha at the start) must be below the second"]


def test_a_data_file_too_large_to_read_is_refused_by_its_size_unread(tmp_path):
    config = copy.deepcopy(SMALL_CONFIG)
    root = make_workspace(tmp_path, config)
    data = root / "data"
    data.mkdir()
    big = data / "big.csv"
    with open(big, "wb") as handle:  # 64 MB of a file that is not read: sparse, no rows
        handle.write(b"a,b,y\n")
        handle.truncate(64 * 2**20)
    config["datasets"]["big"] = {"path": "data/big.csv", "features": ["a", "b"], "target": "y"}
    config["networks"]["NB"] = {**config["networks"]["N1"], "dataset": "big"}
    make_workspace(root, config)
    problems = _problems(snakemake(root, "-n", "--cores", "1", check=False,
                                   env={"SKLANDSCAPE_MEMORY_GB": "0.5"}))
    assert problems == ["datasets.big.path: data/big.csv has 0.1 GiB; reading it needs ~0.6 GiB, "
                        "and this machine has 0.5 GiB (SKLANDSCAPE_MEMORY_GB to say otherwise): "
                        "use a smaller file"]


def _dry_run(root, config) -> list[str]:
    return _problems(snakemake(make_workspace(root, config), "-n", "--cores", "1", check=False))


def test_bad_seeds_are_refused_before_any_job_each_named(tmp_path):
    """A network's `seeds` makes networks: they must include the network's own random_state,
    and must not take a name already used."""
    config = copy.deepcopy(SMALL_CONFIG)
    config["networks"]["N1"]["seeds"] = [1, 2]  # its random_state is 0
    config["networks"]["N2"]["seeds"] = [0, 5]
    config["networks"]["N2_seed5"] = dict(config["networks"]["N2"], seeds=None)
    del config["networks"]["N2_seed5"]["seeds"]
    problems = _dry_run(tmp_path / "a", config)
    assert problems == [
        "networks.N1.seeds: [1, 2] does not list the network's own random_state 0; list it, or "
        "leave random_state out (the first seed is then the network itself)",
        "networks.N2.seeds: seed 5 makes the network 'N2_seed5', which is already defined under "
        "networks; rename that one"]
    config = copy.deepcopy(SMALL_CONFIG)
    config["networks"]["N1"]["seeds"] = [0]  # one seed is no list of seeds
    config["analyses"] = {"links": {"kind": "connectivity", "network": "N2"},
                          "typo": {"kind": "connectivity", "network": "N3"},
                          "bad": {"kind": "connectivity", "network": "N2", "resolution": 2}}
    problems = _dry_run(tmp_path / "b", config)
    assert len(problems) == 2, problems
    assert problems[0].startswith("analyses.bad.resolution: 2 is less than the minimum of 3 ("), \
        problems
    assert problems[1] == "networks.N1.seeds: [0] has 1 item; at least 2 are needed", problems
    del config["analyses"]["bad"]
    config["networks"]["N1"]["seeds"] = [0, 1]
    problems = _dry_run(tmp_path / "c", config)
    assert problems == [
        "analyses.links.network: a connectivity analysis compares a network's seeds, and "
        "networks.N2 has one; give it seeds, e.g. seeds: [0, 1, 2]",
        "analyses.typo.network: 'N3' is not defined under networks; defined: N1, N1_seed1, N2",
    ], problems
    assert not (tmp_path / "c" / "results").exists()
