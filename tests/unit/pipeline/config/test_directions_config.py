"""Config errors of the direction kinds, found while Snakemake parses (no job runs)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from sklandscape.pipeline.config.validation import ConfigError, check_config, schema_problems

SCHEMA = yaml.safe_load((Path(__file__).resolve().parents[4] / "workflow/schemas/config.schema.yaml")
                        .read_text())

BASE = {
    "experiment": "x",
    "datasets": {"curve": {"function": "sine", "n_samples": 40, "domain": [[-3.0, 3.0]],
                           "sampling": "grid"},
                 "surface": {"function": "waves_with_spike", "n_samples": 100,
                             "domain": [[-3.0, 3.0], [-3.0, 3.0]]}},
    "networks": {"N1": {"dataset": "curve", "hidden_layer_sizes": [2]},
                 "N2": {"dataset": "surface", "hidden_layer_sizes": [10, 10]}},
    "landscapes": {},
}


def problems(landscapes: dict) -> list[str]:
    config = copy.deepcopy(BASE)
    config["landscapes"] = landscapes
    found = schema_problems(config, SCHEMA)
    if found:
        return found
    try:
        check_config(config)
    except ConfigError as error:
        return [line[4:] for line in str(error).splitlines() if line.startswith("  - ")]
    return []


def test_a_valid_config_of_every_direction_kind_passes():
    assert problems({
        "a": {"network": "N1", "kind": "weight_pairs", "axes": "all", "span": 1.0,
              "resolution": 5, "samples": [3]},
        "b": {"network": "N2", "kind": "weight_pairs", "span": 1.0, "resolution": 5,
              "axes": [["W1[0,0]", "W3[9,0]"], ["b1[0]", "b3[0]"]]},
        "c": {"network": "N2", "kind": "random_plane", "seeds": [0, 1], "resolution": 5},
        "d": {"network": "N1", "kind": "interpolation", "resolution": 5, "alpha_range": [0, 1]},
        "e": {"network": "N2", "kind": "trajectory_pca", "resolution": 5, "samples": 99},
    }) == []


@pytest.mark.parametrize("landscape,expected", [
    ({"network": "N1", "kind": "weight_pairs", "span": 1.0, "resolution": 5,
      "axes": ["W1[0,0]", "W3[0,0]"]},
     "landscapes.bad.axes[1]: network 'N1' (layer sizes [1, 2, 1]) has no weight 'W3[0,0]'; "
     "its weights are: W1[0,0], W1[0,1], b1[0], b1[1], W2[0,0], W2[1,0], b2[0]"),
    ({"network": "N1", "kind": "weight_pairs", "span": 1.0, "resolution": 5,
      "axes": [["b1[0]", "b2[0]"], ["b2[0]", "b1[0]"]]},
     "landscapes.bad.axes[1]: the pair ['b2[0]', 'b1[0]'] is listed twice"),
    ({"network": "N1", "kind": "weight_pairs", "span": 1.0, "resolution": 5,
      "axes": [["b1[0]", "b1[0]"]]},
     "landscapes.bad.axes[0]: a pair needs two different weights, got 'b1[0]' twice"),
    ({"network": "N2", "kind": "weight_pairs", "span": 1.0, "resolution": 5, "axes": "all"},
     "landscapes.bad.axes: 151 weights of network 'N2' are more than a corner plot can show "
     "(25 at most); list the weights to pair"),
    ({"network": "N1", "kind": "random_plane", "resolution": 5, "samples": [3, 40]},
     "landscapes.bad.samples: row 40 is out of range: dataset 'curve' has 40 rows (valid 0..39)"),
    ({"network": "N1", "kind": "trajectory_pca", "resolution": 5, "samples": 40},
     "landscapes.bad.samples: row 40 is out of range: dataset 'curve' has 40 rows (valid 0..39)"),
    ({"network": "N1", "kind": "random_plane", "resolution": 5, "span": 1.0, "axes": "all"},
     "landscapes.bad: unknown key 'axes'; allowed keys: network, resolution, topology_threshold, "
     "kind, seeds, span, zero_biases, objective, samples"),
    ({"network": "N1", "kind": "random_plane", "resolution": 5, "seeds": [1, 1]},
     "landscapes.bad.seeds: [1, 1] has non-unique elements"),
    ({"network": "N1", "kind": "interpolation", "resolution": 5, "alpha_range": [0]},
     "landscapes.bad.alpha_range: [0] has 1 item; at least 2 are needed"),
])
def test_bad_direction_landscapes_are_named(landscape, expected):
    found = problems({"bad": landscape})
    assert any(line.startswith(expected) for line in found), found
