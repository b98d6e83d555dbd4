"""The conventions of the field, checked in CI: snakemake --lint, snakefmt, ruff, config docs
generated from the schema, the workflow catalog file, and the rules' conda environment."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from workflow_support import REPO, make_workspace, snakemake

# The config-docs generator is a developer tool (tools/), not part of the package.
_spec = importlib.util.spec_from_file_location("config_docs", REPO / "tools" / "config_docs.py")
config_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(config_docs)


def run_tool(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *command], cwd=REPO, capture_output=True,
                          text=True)


def test_snakemake_lint_reports_nothing(tmp_path):
    root = make_workspace(tmp_path / "lint", yaml.safe_load((REPO / "config/config.yaml").read_text()))
    linted = snakemake(root, "--lint", check=False)
    output = linted.stdout + linted.stderr
    assert linted.returncode == 0 and "Lints for" not in output, output
    assert "Congratulations, your workflow is in a good condition!" in output


def test_snakefmt_is_clean():
    checked = run_tool("snakefmt", "--check", "--diff", "workflow")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_ruff_is_clean():
    checked = run_tool("ruff", "check", "--no-cache", ".")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def lint_imports(source: Path) -> subprocess.CompletedProcess:
    """import-linter's contracts (pyproject.toml) on the package found under `source`."""
    env = dict(os.environ, PYTHONPATH=str(source))
    return subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
                          cwd=REPO, capture_output=True, text=True, env=env)


def test_imports_go_one_way_down_the_layers():
    checked = lint_imports(REPO / "src")
    assert checked.returncode == 0 and "0 broken" in checked.stdout, checked.stdout + checked.stderr


@pytest.mark.parametrize("module, line", [
    ("figures/drawing.py", "from sklandscape.pipeline import stages"),  # a lower layer reaching up
    ("engine/summary.py", "import mlflow"),  # mlflow outside the pipeline's tracking
])
def test_the_import_contracts_catch_a_violation(tmp_path, module, line):
    import shutil

    shutil.copytree(REPO / "src/sklandscape", tmp_path / "sklandscape",
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "sklandscape" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    checked = lint_imports(tmp_path)
    assert checked.returncode != 0 and "1 broken" in checked.stdout, checked.stdout


def test_config_readme_is_the_one_generated_from_the_schema():
    assert (REPO / "config/README.md").read_text() == config_docs.render(), (
        "config/README.md is stale: run `make config-docs`"
    )


def schema_keys(node) -> set[str]:
    """Every key any `properties` of the schema defines (placeholders `{}` aside)."""
    found = set()
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            if sub != {}:
                found.add(name)
        for value in node.values():
            found |= schema_keys(value)
    elif isinstance(node, list):
        for value in node:
            found |= schema_keys(value)
    return found


def config_keys(config: dict) -> set[str]:
    """The keys config/config.yaml uses (entry names under the named sections aside)."""
    found = set(config)
    for section in ("datasets", "networks", "landscapes"):
        for entry in (config.get(section) or {}).values():
            found |= set(entry)
    return found


def test_config_readme_documents_every_key():
    readme = (REPO / "config/README.md").read_text()
    schema = config_docs.load_schema()
    documented = {part for key in re.findall(r"`([\w.]+)`", readme) for part in key.split(".")}
    assert schema_keys(schema) <= documented
    assert config_keys(yaml.safe_load((REPO / "config/config.yaml").read_text())) <= documented


def test_config_docs_check_mode_reports_a_stale_file(tmp_path, monkeypatch):
    stale = tmp_path / "README.md"
    stale.write_text("# outdated\n")
    monkeypatch.setattr(config_docs, "README", stale)
    assert config_docs.main(["--check"]) == 1
    assert config_docs.main([]) == 0 and config_docs.main(["--check"]) == 0
    assert stale.read_text() == config_docs.render()


def test_workflow_catalog_file():
    catalog = yaml.safe_load((REPO / ".snakemake-workflow-catalog.yml").read_text())
    usage = catalog["usage"]
    assert set(usage) == {"mandatory-flags", "software-stack-deployment", "report"}
    assert set(usage["mandatory-flags"]) == {"desc", "flags"}
    deployment = usage["software-stack-deployment"]
    assert set(deployment) == {"conda", "apptainer", "apptainer+conda"}
    assert usage["report"] is True and deployment["conda"] is True
    # conda: true holds only while every rule names its environment, which --lint checks
    smk = "".join(p.read_text() for p in (REPO / "workflow/rules").glob("*.smk"))
    rules = len(re.findall(r"^ *rule\b", smk, flags=re.MULTILINE))  # a loop's rules are indented
    assert rules == smk.count('"../envs/sklandscape.yaml"')


def requirement(text: str) -> tuple[str, str]:
    """('scikit-learn', '>=1.5') from 'scikit-learn>=1.5' or 'scikit_learn >= 1.5'."""
    name, spec = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", text).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_the_rules_conda_env_lists_the_runtime_dependencies():
    """(environment.yml, the developer's environment, is checked by test_environment.py.)"""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    conda = yaml.safe_load((REPO / "workflow/envs/sklandscape.yaml").read_text())["dependencies"]
    listed = dict(requirement(item) for item in conda if isinstance(item, str))
    assert listed.pop("python") == project["requires-python"]
    listed.pop("pip")
    # the library's own dependencies and the [pipeline] extra: a rule runs a job of the pipeline
    runtime = project["dependencies"] + project["optional-dependencies"]["pipeline"]
    assert listed == dict(requirement(r) for r in runtime)


@contextmanager
def environment_restored():
    """Parsing runs the Snakefile's top level in this process, which sets environment
    variables (the invocation id, the tracking URI) that later tests must not inherit."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def rule_outputs(root):
    """(rule, output file) of every rule of the workflow in `root`, parsed by Snakemake."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (
        ConfigSettings,
        OutputSettings,
        ResourceSettings,
        StorageSettings,
    )

    with environment_restored(), SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(), config_settings=ConfigSettings(),
            storage_settings=StorageSettings(), snakefile=root / "workflow" / "Snakefile", workdir=root,
        )
        workflow_api.dag()  # parses the Snakefile
        return [(rule, f) for rule in workflow_api._workflow.rules for f in rule.output]


def test_every_figure_goes_into_the_report_with_a_caption(tmp_path):
    """A new figure rule must wrap its PNG in report(...): checked on the parsed workflow."""
    from snakemake.io import get_flag_value, is_flagged

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    root = make_workspace(tmp_path / "report", config)
    figures = [(rule, f) for rule, f in rule_outputs(root) if str(f).endswith(".png")]
    assert len({rule.name for rule, _ in figures}) >= 10
    unreported = [f"{rule.name}: {f}" for rule, f in figures if not is_flagged(f, "report")]
    assert not unreported
    for rule, f in figures:
        flag = get_flag_value(f, "report")
        assert flag.category, f"{rule.name}: {f} has no category"
        caption = Path(flag.caption.get_path_or_uri(secret_free=True)).resolve()
        assert caption.parent == (root / "workflow" / "report").resolve() and caption.is_file()


@pytest.mark.parametrize("name", ["default", "slurm"])
def test_profiles_parse(name):
    profile = yaml.safe_load((REPO / "profiles" / name / "config.yaml").read_text())
    assert isinstance(profile, dict) and profile
