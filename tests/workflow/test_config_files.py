"""What a config file may not say, caught before the schema and before any job: a key written
twice (YAML keeps the last silently), NaN or infinite numbers, whole numbers written as
floats, names with a newline or too long to be a file name. One dry run, every problem named."""

from __future__ import annotations

import pytest
import yaml

from workflow_support import REPO, make_workspace, snakemake

pytestmark = pytest.mark.pipeline

LONG = "L" * 251

# The default config, then text a user pasted or typed at its end.
APPENDED = '''
landscapes:
  pasted:
    network: N1
    kind: weights
    axes: ["b1[0]", "b2[0]"]
    span: 1.0
    resolution: 11
'''
EDITS = {
    "span: .nan": ("N1_one_point", "span", ".nan"),
    "resolution: 11.0": ("N1_all_points", "resolution", "11.0"),
}


def _problems(result) -> list[str]:
    assert result.returncode != 0, result.stdout + result.stderr
    text = result.stderr + result.stdout
    return [line[4:] for line in text.splitlines() if line.startswith("  - ")]


def _dry_run(root, text):
    (root / "config" / "config.yaml").write_text(text)
    return _problems(snakemake(root, "-n", "--cores", "1", check=False))


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    return make_workspace(tmp_path_factory.mktemp("config_files"), config)


def test_a_pasted_section_is_refused_naming_both_lines(root):
    text = (REPO / "config/config.yaml").read_text()
    first = 1 + text.splitlines().index("landscapes:")
    problems = _dry_run(root, text + APPENDED)
    second = len(text.splitlines()) + 2
    assert problems == [f"config/config.yaml: key 'landscapes' is given twice in one mapping "
                        f"(lines {first} and {second}); YAML would keep only the second, "
                        f"silently"]


def test_a_copied_entry_under_the_same_name_is_refused(root):
    text = (REPO / "config/config.yaml").read_text()
    block = "  N1_one_point:\n    network: N1\n"
    at = text.index("  N1_all_points:")
    problems = _dry_run(root, text[:at] + block + "    kind: input_space\n    resolution: 5\n" + text[at:])
    assert len(problems) == 1 and "key 'N1_one_point' is given twice" in problems[0]


def test_numbers_that_are_not_finite_or_not_whole_are_named(root):
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["landscapes"]["N1_one_point"]["span"] = float("nan")
    config["networks"]["N1"]["alpha"] = float("inf")
    config["datasets"]["sine_curve"]["noise"] = float("nan")
    problems = _dry_run(root, yaml.safe_dump(config, sort_keys=False))
    assert problems == ["datasets.sine_curve.noise: nan is not a finite number",
                        "networks.N1.alpha: inf is not a finite number",
                        "landscapes.N1_one_point.span: nan is not a finite number"]
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["landscapes"]["N1_all_points"]["resolution"] = 11.0
    config["landscapes"]["N1_one_point"]["samples"] = [50.0]
    problems = _dry_run(root, yaml.safe_dump(config, sort_keys=False))
    assert "landscapes.N1_all_points.resolution: 11.0 is not an integer" in problems
    assert any(p.startswith("landscapes.N1_one_point.samples: [50.0] is not allowed here")
               for p in problems), problems


def test_names_must_be_whole_words_of_at_most_64_characters(root):
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["landscapes"]["X\n"] = config["landscapes"]["N1_one_point"]
    config["landscapes"][LONG] = config["landscapes"]["N1_one_point"]
    problems = _dry_run(root, yaml.safe_dump(config, sort_keys=False))
    assert ("landscapes: name 'X\\n' is not allowed: it ends in a line break (it becomes a "
            "file name)") in problems
    assert (f"landscapes: name '{LONG}' is not allowed: Letters, digits and underscores, "
            "starting with a letter, at most 64 characters (it becomes a file name).") in problems
