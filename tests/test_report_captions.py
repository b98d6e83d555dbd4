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
    },
    "networks": {
        "N_gen": {"dataset": "generated", "hidden_layer_sizes": [2]},
        "N_mine": {"dataset": "mine", "hidden_layer_sizes": [4, 3], "solver": "adam"},
    },
    "landscapes": {
        "mine_input": {"network": "N_mine", "kind": "input", "resolution": 11},
        "gen_rows": {"network": "N_gen", "kind": "weights", "axes": ["W1[0,0]", "b1[1]"],
                     "span": 0.5, "resolution": 9, "samples": [3, 5]},
        "future": {"network": "N_gen", "kind": "something_new", "resolution": 9},
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
    assert "losscape" in text or "N_mine" in text


def test_an_unknown_kind_still_renders():
    assert "something_new" in caption("landscape", landscape="future")
