"""One implementation, two front doors: every landscape kind and analysis made by the real
workflow equals the public API's result on the same model, data and options, table for
table (exactly) and file for file (byte for byte, given the pipeline's provenance)."""

from __future__ import annotations

import pandas as pd
import pytest

import sklandscape as sl
from sklandscape import io
from sklandscape.kinds import KINDS, names
from workflow_support import make_workspace, snakemake, trained_network

pytestmark = pytest.mark.pipeline

CONFIG = {
    "experiment": "sklandscape-api-test",
    "datasets": {
        "curve": {"function": "sine", "n_samples": 40, "domain": [[-3.0, 3.0]],
                  "sampling": "grid"},
        "surface": {"function": "waves_with_spike", "n_samples": 150,
                    "domain": [[-3.0, 3.0], [-3.0, 3.0]], "seed": 1},
    },
    "networks": {
        "N1": {"dataset": "curve", "hidden_layer_sizes": [3], "solver": "lbfgs", "max_iter": 300,
               "random_state": 0, "seeds": [0, 4, 1]},
        "N2": {"dataset": "surface", "hidden_layer_sizes": [5, 4], "solver": "adam",
               "max_iter": 30, "learning_rate_init": 0.01, "random_state": 0},
    },
    "landscapes": {
        "N1_slice": {"network": "N1", "kind": "weights", "axes": ["W1[0,0]", "W2[0,0]"],
                     "span": 1.5, "resolution": 21, "samples": [3, 7, 30]},
        "N2_input": {"network": "N2", "kind": "input_space", "resolution": 17, "margin": 0.25},
        "N2_pairs": {"network": "N2", "kind": "weight_pairs", "span": 1.0, "resolution": 7,
                     "axes": ["W1[0,0]", "b2[1]", "W3[2,0]"], "samples": "all"},
        "N1_plane": {"network": "N1", "kind": "random_plane", "seeds": [0, 3], "span": 1.0,
                     "resolution": 9, "zero_biases": False, "samples": "all"},
        "N1_line": {"network": "N1", "kind": "interpolation", "alpha_range": [-0.25, 1.25],
                    "resolution": 31, "samples": "all"},
        "N2_path": {"network": "N2", "kind": "trajectory_pca", "resolution": 9, "margin": 0.5,
                    "samples": "all", "topology_threshold": 0.05},
        "N1_hessian": {"network": "N1", "kind": "hessian_plane", "directions": "top_two",
                       "span": 0.5, "resolution": 9, "samples": "all"},
    },
    "analyses": {
        "N1_curv": {"kind": "curvature", "landscape": "N1_slice", "plateau_threshold": 0.5},
        "N1_opt": {"kind": "optimizers", "landscape": "N1_slice", "animation": False,
                   "start_offsets": [[1.0, 1.0], [-1.0, 0.5]], "learning_rates": [0.01, 0.1],
                   "epsilon": 1e-3, "max_steps": 40},
        "N2_attack": {"kind": "input_attack", "landscape": "N2_input", "top_k": 4, "arrows": 5,
                      "ascent": {"step_size": 0.05, "steps": 5, "radius": 0.2}},
        "N1_links": {"kind": "connectivity", "network": "N1", "resolution": 9,
                     "curve_max_iter": 10, "plane_resolution": 7, "margin": 0.5},
        "N1_rates": {"kind": "learning_rates", "network": "N1", "momenta": [0.0, 0.5],
                     "factors": [0.5, 2.0], "max_iter": 20},
    },
}
# A kind with no case above gets its registry entry's `example`, on network N1: a kind added
# to the registry is compared without an edit here (docs/architecture.md, "Adding a kind").
_HAND = {spec["kind"] for section in ("landscapes", "analyses") for spec in CONFIG[section].values()}
for _kind in KINDS.values():
    if _kind.example and _kind.name not in _HAND:
        section = "landscapes" if _kind.family == "landscape" else "analyses"
        CONFIG[section][f"N1_{_kind.name}"] = {"network": "N1", "kind": _kind.name,
                                               **_kind.example}
# The pipeline's provenance, which the API cannot know: copied before comparing bytes.
PROVENANCE = ("config_hash", "initial_weights_file", "trajectory_file")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("api"), CONFIG)
    snakemake(root, "--cores", "2")
    return root


def _inputs(root, network):
    return trained_network(root, CONFIG, network)[:3]


def _options(name, section="landscapes"):
    spec = dict(CONFIG[section][name])
    for key in ("network", "kind", "landscape", "animation"):
        spec.pop(key, None)
    return spec


def _api_landscape(root, name):
    spec = CONFIG["landscapes"][name]
    model, X, y = _inputs(root, spec["network"])
    options = _options(name) | {"name": name, "network": spec["network"]}
    models = root / "results" / "models" / spec["network"]
    if spec["kind"] == "interpolation":
        options["initial"] = io.read_weights(models / "initial_weights.parquet")
    if spec["kind"] == "trajectory_pca":
        options["path"] = io.read_trajectory(models / "trajectory.parquet")[1]
    if spec["kind"] == "input_space":
        options["target"] = "waves_with_spike"
        options["domain"] = CONFIG["datasets"]["surface"]["domain"]
    return getattr(sl, spec["kind"])(model, X, y, **options)


def _assert_same_file(result, table, pipeline_file, tmp_path):
    expected = io.read_metadata(pipeline_file)
    metadata = result.table_metadata[table]
    if "weights_file" in expected.get("network", {}):
        metadata["network"]["weights_file"] = expected["network"]["weights_file"]
    for key in PROVENANCE:
        if key in metadata:
            metadata[key] = expected[key]
    # a pipeline job also stamps on every table the code's commit, whether the tree differed
    # from it, the hash of the code it ran, and its inputs' sha256
    assert set(expected["provenance"]) == {"code_commit", "code_dirty", "code_sha256", "inputs"}
    metadata["provenance"] = expected["provenance"]
    frame, _ = io.read_table(pipeline_file)
    pd.testing.assert_frame_equal(result.tables[table], frame, check_exact=True)
    written = result.to_parquet(tmp_path / f"{table}.parquet", table)
    assert written.read_bytes() == pipeline_file.read_bytes()


SUFFIXES = {"stats": ".stats", "directions": ".directions", "path": ".path",
            "topology": ".topology"}
TWO_D = set(names(two_d=True))


def test_every_registered_kind_has_a_case_here():
    """The registry lists the kinds; a kind without a case here (or an `example` in its
    registry entry) is a kind nobody compared."""
    covered = {spec["kind"] for section in ("landscapes", "analyses")
               for spec in CONFIG[section].values()}
    assert covered == set(KINDS)


@pytest.mark.parametrize("name", list(CONFIG["landscapes"]))
def test_every_landscape_kind_equals_the_pipelines_byte_for_byte(workspace, name, tmp_path):
    result = _api_landscape(workspace, name)
    # every 2-D kind has its topology, and the relation minima - saddles + maxima = 1 holds
    assert ("topology" in result.tables) == (CONFIG["landscapes"][name]["kind"] in TWO_D)
    for grid in result.topology or []:
        assert grid.topology.metrics["euler_characteristic"] == 1
    for table in result.tables:
        suffix = "" if table == "landscape" else SUFFIXES[table]
        _assert_same_file(result, table, workspace / f"results/landscapes/{name}{suffix}.parquet",
                          tmp_path)
    assert result.plot() is not None


OF_LANDSCAPES = [n for n, spec in CONFIG["analyses"].items() if "landscape" in spec]


@pytest.mark.parametrize("name", OF_LANDSCAPES)
def test_every_analysis_equals_the_pipelines_byte_for_byte(workspace, name, tmp_path):
    spec = CONFIG["analyses"][name]
    landscape = _api_landscape(workspace, spec["landscape"])
    model, X, y = _inputs(workspace, CONFIG["landscapes"][spec["landscape"]]["network"])
    result = getattr(sl, spec["kind"])(model, X, y, landscape, name=name, **_options(
        name, "analyses") if spec["kind"] != "input_attack" else {
        "top_k": spec["top_k"], "arrows": spec["arrows"], **spec["ascent"]})
    for table in result.tables:
        _assert_same_file(result, table, workspace / f"results/analyses/{name}/{table}.parquet",
                          tmp_path)
    for which in result.figure_names:
        assert result.plot(which).axes


def test_learning_rates_equals_the_pipelines_byte_for_byte(workspace, tmp_path):
    model, X, y, split = trained_network(workspace, CONFIG, "N1")
    assert split is None  # N1 holds nothing out: its training rows are all rows
    result = sl.learning_rates(model, X, y, name="N1_rates", network="N1",
                               **_options("N1_rates", "analyses"))
    assert set(result.tables) == {"rates", "curves", "limits"}
    for table in result.tables:
        _assert_same_file(result, table,
                          workspace / f"results/analyses/N1_rates/{table}.parquet", tmp_path)


def test_connectivity_between_seeds_equals_the_pipelines_byte_for_byte(workspace, tmp_path):
    # the network's seeds are networks of their own, in the order of `seeds` (itself first)
    names = ["N1", "N1_seed4", "N1_seed1"]
    models = [trained_network(workspace, CONFIG, "N1")[0]]
    for name in names[1:]:
        models.append(trained_network(workspace, CONFIG | {"networks": {
            name: CONFIG["networks"]["N1"]}}, name)[0])
        assert models[-1].random_state == int(name.removeprefix("N1_seed"))
    _, X, y, _ = trained_network(workspace, CONFIG, "N1")
    result = sl.connectivity(models, X, y, names=names, name="N1_links", network="N1",
                             **_options("N1_links", "analyses"))
    folder = workspace / "results" / "analyses" / "N1_links"
    for table in result.tables:
        expected = io.read_metadata(folder / f"{table}.parquet")
        result.table_metadata[table]["provenance"] = expected["provenance"]
        frame, _ = io.read_table(folder / f"{table}.parquet")
        pd.testing.assert_frame_equal(result.tables[table], frame, check_exact=True)
        written = result.to_parquet(tmp_path / f"{table}.parquet", table)
        assert written.read_bytes() == (folder / f"{table}.parquet").read_bytes()
    figures = workspace / "results" / "figures"
    assert sorted(p.name for p in (figures / "connectivity_paths_N1_links").glob("*.png")) == [
        "N1__N1_seed1.png", "N1__N1_seed4.png", "N1_seed4__N1_seed1.png"]
    assert "Plotly.newPlot" in (figures / "connectivity_plane_N1_links.html").read_text()
