"""A network's `seeds` becomes one network per seed, named after it, and changes nothing else."""

from __future__ import annotations

import copy

from sklandscape.pipeline.config.seeds import expand_seeds, members


def test_each_other_seed_becomes_a_network_right_after_its_own():
    config = {"networks": {"A": {"dataset": "d", "random_state": 2, "seeds": [0, 2, 5]},
                           "B": {"dataset": "d"}}}
    assert expand_seeds(config) == []
    assert list(config["networks"]) == ["A", "A_seed0", "A_seed5", "B"]
    assert config["networks"]["A_seed5"] == {"dataset": "d", "random_state": 5}
    assert config["networks"]["A"] == {"dataset": "d", "random_state": 2, "seeds": [0, 2, 5]}
    assert members("A", config["networks"]["A"]) == ["A", "A_seed0", "A_seed5"]
    assert members("B", config["networks"]["B"]) == ["B"]


def test_without_a_random_state_the_network_is_the_first_seed():
    config = {"networks": {"A": {"dataset": "d", "seeds": [3, 1]}}}
    assert expand_seeds(config) == []
    assert config["networks"]["A"]["random_state"] == 3
    assert list(config["networks"]) == ["A", "A_seed1"]


def test_problems_leave_the_config_as_it_was():
    config = {"networks": {"A": {"dataset": "d", "random_state": 0, "seeds": [1, 2]},
                           "B": {"dataset": "d", "seeds": [0, 1]}, "B_seed1": {"dataset": "d"}}}
    before = copy.deepcopy(config)
    problems = expand_seeds(config)
    assert len(problems) == 2 and "networks.A.seeds" in problems[0]
    assert "'B_seed1'" in problems[1]
    assert config == before
