"""The registry of kinds is the one place a kind is declared: what reads kinds reads it, and
the config schema lists exactly its kinds, each with a section."""

import inspect

import yaml

import sklandscape as sl
from sklandscape.kinds import KINDS, names
from workflow_support import REPO


def _schema() -> dict:
    return yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())


def test_the_schema_lists_exactly_the_registered_kinds_each_with_its_section():
    schema = _schema()
    defs = schema["$defs"]
    landscape_kinds = defs["landscape"]["properties"]["kind"]["enum"]
    analysis_kinds = defs["analysis"]["properties"]["kind"]["enum"]
    assert sorted(landscape_kinds) == sorted(names("landscape"))
    assert sorted(analysis_kinds) == sorted(names("analysis"))
    for name, kind in KINDS.items():
        assert f"{name}_{kind.family}" in defs, name


def test_every_registered_kind_is_a_public_function_of_its_module_with_its_options():
    for name, kind in KINDS.items():
        function = getattr(sl, name)
        assert function.__module__ == kind.module, name
        assert name in sl.__all__
        parameters = inspect.signature(function).parameters
        assert set(kind.options) <= set(parameters), (name, set(kind.options) - set(parameters))
        assert {"name", "progress"} <= set(parameters), name
    assert sorted(sl.__all__) == sorted([*sl._PUBLIC, "__version__"])


def test_what_reads_kinds_reads_the_registry():
    from sklandscape.api.topology import TOPOLOGY_KINDS
    from sklandscape.options import OPTIONS

    assert OPTIONS == {name: kind.options for name, kind in KINDS.items()}
    assert TOPOLOGY_KINDS == names(two_d=True)
    assert names("landscape", grid=True) == ("weights", "input_space")
    assert set(names(page=True)) <= set(names(two_d=True))  # a 3-D page draws a surface
    for name in names("analysis"):
        of = KINDS[name].of
        assert of == "network" or of.removeprefix("landscape:") in names("landscape"), name
    common = (REPO / "workflow/rules/common.smk").read_text()
    assert "PAGE_KINDS = kind_names(page=True)" in common
    assert 'GRID_KINDS = kind_names("landscape", grid=True)' in common
    assert 'DIRECTION_KINDS = kind_names("landscape", grid=False)' in common


def test_every_kind_has_its_own_rule_and_its_runs_a_description():
    from sklandscape.pipeline.stages.descriptions import describe
    from sklandscape.pipeline.stages.directions import result_function

    rules = "".join(path.read_text() for path in (REPO / "workflow/rules").glob("*.smk"))
    assert "for kind in DIRECTION_KINDS:" in rules  # their rules: one per kind, made in a loop
    for name, kind in KINDS.items():
        rule = "landscape" if kind.grid else name
        if kind.family == "landscape" and not kind.grid:
            assert callable(result_function(name)), name
        else:
            assert f"rule {rule}:" in rules, name
        spec = {"kind": name, "network": "N", "landscape": "L", "resolution": 5,
                "axes": ["W1[0,0]", "W2[0,0]"], "span": 1.0}
        text = describe(rule, {"landscape": "L", "analysis": "A"}, {"spec": spec})
        assert kind.summary.split(";")[0].split(" (")[0][-20:] in text or name == "weights", text
        assert text.startswith("Loss landscape **L**" if kind.family == "landscape"
                               else "Analysis **A** of "), text
