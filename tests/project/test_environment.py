"""environment.yml (conda) and pyproject.toml (pip) must list the same dependencies."""

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _requirement(text: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", text)
    return match[1].lower().replace("_", "-"), match[2].replace(" ", "")


def test_environment_yml_lists_the_pyproject_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pip_side = dict(_requirement(r) for r in project["dependencies"])
    for name, extra in project["optional-dependencies"].items():
        if name != "slurm":  # only where it runs (docs/slurm.md): not in the dev environment
            pip_side.update(_requirement(r) for r in extra if not r.startswith("sklandscape"))
    conda = yaml.safe_load((REPO / "environment.yml").read_text())["dependencies"]
    conda_side = dict(_requirement(d) for d in conda if isinstance(d, str))
    from_pip = next(d["pip"] for d in conda if isinstance(d, dict))
    conda_side.update(_requirement(d) for d in from_pip if not d.startswith("-e"))
    conda_side.pop("python"), conda_side.pop("pip")
    assert conda_side == pip_side


def test_environment_requires_the_same_python():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    conda = yaml.safe_load((REPO / "environment.yml").read_text())["dependencies"]
    assert f"python{project['requires-python']}" in conda


def test_the_package_says_the_version_pyproject_gives():
    import sklandscape

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert sklandscape.__version__ == project["version"]
