"""What reading a config may cost, counted without building it: the expanded size of a YAML
document against the size of the same document built and walked (small enough to build)."""

from __future__ import annotations

import yaml

from sklandscape.pipeline.config.files import expanded_values, file_problems


def _walked(value) -> int:
    """Values in a built document, aliases expanded: every mapping key, value and item."""
    if isinstance(value, dict):
        return 1 + sum(1 + _walked(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_walked(v) for v in value)
    return 1


def test_the_expanded_size_is_that_of_the_built_document():
    documents = [
        "a: 1\nb: [1, 2, {c: 3}]\n",
        "a: &x [1, 2, 3]\nb: *x\nc: {d: *x, e: &y {f: *x}}\ng: [*y, *y]\n",
        "l0: &l0 [x, x, x]\n" + "".join(f"l{k}: &l{k} [*l{k - 1}, *l{k - 1}, *l{k - 1}]\n"
                                        for k in range(1, 6)),
        "s: &s text\nt: [*s, *s]\n",
    ]
    for text in documents:
        assert expanded_values(text) == _walked(yaml.safe_load(text)), text


def test_a_config_that_is_no_file_or_too_big_is_refused(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("x: " + "a" * (1024**2 + 1))
    assert file_problems(["/dev/zero", str(big), str(tmp_path / "none.yaml")]) == [
        "/dev/zero: not a regular file",
        f"{big}: {big.stat().st_size} bytes, more than a config may have (1024 kB)",
        f"{tmp_path / 'none.yaml'}: cannot be read (No such file or directory)",
    ]
