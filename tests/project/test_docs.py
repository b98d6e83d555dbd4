"""Documentation that cannot rot: every Python example of the README and the docs runs, and
the site builds with `mkdocs build --strict` (broken links, missing pages and bad API
references fail it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from doc_examples import python_blocks, run_examples
from workflow_support import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
README_LIMIT = 15 * 1024


@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_every_example_runs(page, tmp_path):
    assert run_examples(page, tmp_path) > 0
    if page.name == "tutorial.md":  # it draws what it shows
        drawn = {p.name for p in (tmp_path / "figures").glob("*.png")}
        shown = set(re_figures(page))
        assert shown and shown <= drawn, shown - drawn


def re_figures(page: Path) -> list[str]:
    import re

    return re.findall(r"\]\(figures/(tutorial_[\w.]+)\)", page.read_text())


def test_the_readme_is_a_front_page():
    readme = (REPO / "README.md").read_text()
    assert len(readme.encode()) < README_LIMIT, f"README.md is {len(readme.encode())} bytes"
    assert python_blocks(REPO / "README.md"), "the README shows the library in a few lines"
    for page in ("tutorial", "classifiers", "pipeline", "mlflow", "slurm", "failures", "engine", "findings",
                 "api", "config", "architecture"):
        assert f"docs/{page}.md" in readme, f"README does not link docs/{page}.md"


def test_mkdocs_build_strict(tmp_path):
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                            str(tmp_path / "site")], cwd=REPO, capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    # the reference is generated from the docstrings: a function's own words appear there
    assert "The loss over two named weights" in api and "input_attack" in api


def test_docstring_examples_run():
    """Every `>>>` example in the package's docstrings runs and prints what it says."""
    import doctest
    import importlib

    modules = sorted(path.relative_to(REPO / "src").with_suffix("").as_posix().replace("/", ".")
                     for path in (REPO / "src" / "sklandscape").rglob("*.py")
                     if ">>>" in path.read_text())
    assert "sklandscape.api.landscape_functions" in modules, modules
    for name in modules:
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, (name, result)


def test_every_public_function_has_numpydoc_sections():
    """help(sl.<name>) reads as scikit-learn's does: Parameters, Returns, Raises, Examples
    (whose examples test_docstring_examples_run runs)."""
    import inspect

    import sklandscape as sl

    missing = {}
    for name in sl.__all__:
        value = getattr(sl, name)
        if not inspect.isfunction(value):
            continue
        doc = "\n" + (inspect.getdoc(value) or "")
        lacking = [s for s in ("Parameters", "Returns", "Raises", "Examples")
                   if f"\n{s}\n{'-' * len(s)}\n" not in doc]
        if lacking:
            missing[name] = lacking
    assert missing == {}
    assert len([n for n in sl.__all__ if inspect.isfunction(getattr(sl, n))]) >= 15
