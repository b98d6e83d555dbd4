"""The report's captions for every kind of entry, rendered the way `snakemake --report` does
(Jinja with trim_blocks/lstrip_blocks, then reStructuredText to HTML).

The end-to-end report test (test_pipeline.py) covers generated datasets; these cover the
branches its small config does not reach: your own data files, sample lists, and a landscape
kind the captions do not know.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import pytest
from docutils.core import publish_parts
from jinja2 import Environment

from workflow_support import REPO

CONFIG = {
    "experiment": "captions",
    "datasets": {
        "generated": {"function": "sine", "n_samples": 40, "domain": [[-3.0, 3.0]]},
        "mine": {"path": "data/mine.csv", "features": ["a", "b"], "target": "y"},
        "body": {"path": "data/body.csv", "features": ["Chins"], "targets": ["Weight", "Pulse"]},
        "wine": {"sklearn": "wine", "features": ["alcohol", "hue"]},
    },
    "networks": {
        "N_gen": {"dataset": "generated", "hidden_layer_sizes": [2]},
        "N_mine": {"dataset": "mine", "hidden_layer_sizes": [4, 3], "solver": "adam"},
    },
    "landscapes": {
        "mine_input": {"network": "N_mine", "kind": "input_space", "resolution": 11},
        "gen_rows": {"network": "N_gen", "kind": "weights", "axes": ["W1[0,0]", "b1[1]"],
                     "span": 0.5, "resolution": 9, "samples": [3, 5]},
        "future": {"network": "N_gen", "kind": "something_new", "resolution": 9},
        "gen_one": {"network": "N_gen", "kind": "weights", "axes": ["W1[0,0]", "W2[0,0]"],
                    "span": 3.0, "resolution": 9, "samples": [7]},
        "pairs": {"network": "N_gen", "kind": "weight_pairs", "span": 1.0, "resolution": 9},
        "eig": {"network": "N_mine", "kind": "hessian_plane", "directions": "top_bottom",
                "span": 0.5, "resolution": 9},
        "plane": {"network": "N_mine", "kind": "random_plane", "seeds": [4, 5], "resolution": 9,
                  "zero_biases": False},
        "line": {"network": "N_gen", "kind": "interpolation", "resolution": 9},
        "path": {"network": "N_gen", "kind": "trajectory_pca", "resolution": 9, "samples": [1]},
    },
    "analyses": {
        "curv": {"kind": "curvature", "landscape": "gen_one", "plateau_threshold": 2.0},
        "opt": {"kind": "optimizers", "landscape": "gen_one", "start_offsets": [[1, 1], [0, 1]],
                "methods": {"gd": {}, "nesterov": {}}},
        "attack": {"kind": "input_attack", "landscape": "mine_input", "top_k": 4},
        "rates": {"kind": "learning_rates", "network": "N_gen"},
        "links": {"kind": "connectivity", "network": "N_gen", "method": "activation"},
    },
}


def caption(name: str, **wildcards) -> str:
    source = (REPO / "workflow" / "report" / f"{name}.rst").read_text()
    snakemake = SimpleNamespace(wildcards=SimpleNamespace(**wildcards), config=CONFIG)
    text = Environment(trim_blocks=True, lstrip_blocks=True).from_string(source).render(
        snakemake=snakemake
    )
    with warnings.catch_warnings():  # docutils deprecates writer_name; snakemake still uses it
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        body = publish_parts(text, writer_name="html")["body"]  # as snakemake's report does
    assert "system-message" not in body, body  # docutils' complaint about malformed markup
    return " ".join(body.split())


def test_your_own_data_file():
    text = caption("dataset", dataset="mine")
    assert "data/mine.csv" in text and "<tt class=\"docutils literal\">y</tt>" in text
    assert "['a', 'b']" in text and "Held fixed: the file, by content" in text
    assert "generating function" not in text


def test_several_targets_and_a_bundled_set():
    text = caption("dataset", dataset="body")
    assert "the target columns ['Weight', 'Pulse'] against the features ['Chins']" in text
    text = caption("dataset", dataset="wine")
    assert "bundled <tt class=\"docutils literal\">wine</tt> data set" in text
    assert "features ['alcohol', 'hue'] and its target" in text and "your own" not in text


def test_a_generated_dataset():
    text = caption("dataset", dataset="generated")
    assert "40 samples of the generating function" in text and "Held fixed: the seed (0)" in text


def test_a_fit_names_the_generating_function_only_when_there_is_one():
    assert "generating function" not in caption("fit", network="N_mine")
    assert "the generating function <tt class=\"docutils literal\">sine</tt> and the" in caption(
        "fit", network="N_gen"
    )


def test_an_input_landscape_on_your_own_data():
    text = caption("landscape", landscape="mine_input")
    assert "the target of the nearest data point over the input plane" in text
    assert "the data's bounding box widened by 0.5" in text
    assert "Held fixed: every weight and bias at its trained value" in text


def test_a_weights_landscape_over_some_rows():
    text = caption("landscape", landscape="gen_rows")
    assert "the data rows [3, 5] as two weights move" in text and "± 0.5" in text
    assert "W1[0,0]" in text and "b1[1]" in text
    assert "Held fixed: every other weight and bias of" in text


@pytest.mark.parametrize("name", ["network", "workflow"])
def test_the_other_captions_render(name):
    text = caption(name, network="N_mine")
    assert "sklandscape" in text or "N_mine" in text


def test_an_unknown_kind_still_renders():
    assert "something_new" in caption("landscape", landscape="future")


def test_weight_pairs():
    text = caption("landscape", landscape="pairs")
    assert "one panel per pair of all the network" in text and "± 1.0" in text
    assert "each panel a grid of 9 × 9 points" in text and "3-D surface" not in text
    assert "Held fixed: in each panel, every other weight and bias" in text


def test_a_random_plane_without_zeroed_biases():
    text = caption("landscape", landscape="plane")
    assert "drawn from seed 4" in text and "filter-normalised" in text
    assert "bias entries zeroed" not in text and "Held fixed: the two directions, and the data" in text
    spread = caption("seed_spread", landscape="plane")
    assert "[4, 5]" in spread and "only the seed of the random directions changes" in spread


def test_interpolation_and_the_training_path():
    line = caption("landscape", landscape="line")
    assert "at 9 values of alpha in [-0.5, 1.5]" in line and "Held fixed: the two end points" in line
    assert "contour map" not in line and "grid" not in line
    path = caption("landscape", landscape="path")
    assert "the data rows [1]" in path and "Held fixed: the plane" in path


def test_hessian_plane():
    text = caption("landscape", landscape="eig")
    assert "its largest and its smallest" in text and "± 0.5" in text
    assert "Held fixed: the two directions and the data" in text


@pytest.mark.parametrize("name", ["hessian", "spectrum", "cuts", "convexity", "plateau"])
def test_curvature_figures(name):
    text = caption(name, analysis="curv")
    assert "<strong>curv</strong>" in text and "the data rows [7]" in text
    assert "Held fixed" in text
    if name == "plateau":
        assert "below 2.0" in text


def test_optimizers_and_attack():
    text = caption("optimizers", analysis="opt")
    assert "gd, nesterov move" in text and "from each of 2 starts" in text
    assert "Held fixed: every other weight and bias of" in text
    attack = caption("attack", analysis="attack")
    assert "the 4 worst data points" in attack and "20 steps of 0.02 within 0.3" in attack


def test_software_versions_caption():
    text = caption("software_versions")
    assert "numpy" in text and "scikit-learn" in text and "MLflow" in text


def test_learning_rates():
    text = caption("learning_rates", analysis="rates")
    assert "Analysis <strong>rates</strong> of network" in text and "N_gen" in text
    assert "2(1 + β)/λ_max" in text and "scikit-learn's own" in text
    assert "Held fixed: the data (the network's training rows)" in text


def test_every_caption_file_is_rendered_here():
    tested = {"dataset", "fit", "landscape", "network", "workflow", "seed_spread", "hessian",
              "spectrum", "cuts", "convexity", "plateau", "optimizers", "attack",
              "software_versions", "landscape_page", "optimizers_page", "learning_rates",
              "connectivity_barriers", "connectivity_paths", "connectivity_plane",
              "connectivity_plane_page"}
    assert {p.stem for p in (REPO / "workflow" / "report").glob("*.rst")} == tested


def test_interactive_pages():
    text = caption("landscape_page", landscape="path")
    assert "Interactive 3-D view" in text and "<strong>path</strong>" in text
    assert "the training path projected on the plane" in text and "trained" in text
    assert "trained weights marked" not in caption("landscape_page", landscape="mine_input")
    assert "optimizer&#x27;s path" in caption("optimizers_page", analysis="opt") or \
        "optimizer's path" in caption("optimizers_page", analysis="opt")


@pytest.mark.parametrize("name", ["connectivity_barriers", "connectivity_paths",
                                  "connectivity_plane", "connectivity_plane_page"])
def test_the_connectivity_captions_name_the_network_and_the_analysis(name):
    text = caption(name, analysis="links")
    assert "links" in text and "N_gen" in text
    if name == "connectivity_barriers":
        assert "activation matching" in text
