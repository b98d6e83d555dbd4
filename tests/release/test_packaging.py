"""A release is one command away: the wheel and the sdist build and pass `twine check`, and the
built wheel, installed into a fresh virtual environment with no extras, runs the README's
notebook example without snakemake or mlflow anywhere in that environment."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from doc_examples import python_blocks
from workflow_support import REPO

pytestmark = pytest.mark.release


def _run(*command, cwd=None) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(map(str, command))}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--outdir", out, REPO)
    return out


def test_wheel_and_sdist_pass_twine_check_with_complete_metadata(dist):
    (wheel,), (sdist,) = dist.glob("*.whl"), dist.glob("*.tar.gz")
    assert wheel.name.startswith("sklandscape-") and sdist.name.startswith("sklandscape-")
    _run(sys.executable, "-m", "twine", "check", "--strict", wheel, sdist)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(archive.read(
            next(n for n in names if n.endswith(".dist-info/METADATA"))).decode())
    assert metadata["License-Expression"] == "BSD-3-Clause"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert metadata["Requires-Python"] == ">=3.11" and metadata["Summary"]
    requires = metadata.get_all("Requires-Dist")
    core = [r for r in requires if "extra ==" not in r]
    # the library's own dependencies, and no workflow engine or tracker among them
    assert not [r for r in core if r.split(">")[0].split("<")[0].strip()
                in ("snakemake", "mlflow", "jsonschema", "skops", "plotly")]
    assert set(metadata.get_all("Provides-Extra")) >= {"pipeline", "slurm", "docs", "test"}
    assert "sklandscape/py.typed" in names
    with tarfile.open(sdist) as archive:
        members = {Path(m).relative_to(Path(m).parts[0]).as_posix()
                   for m in archive.getnames() if len(Path(m).parts) > 1}
    assert {"LICENSE", "README.md", "pyproject.toml", "CHANGELOG.md"} <= members


def test_the_wheel_alone_runs_the_readme_notebook_example(dist, tmp_path):
    (wheel,) = dist.glob("*.whl")
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    _run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel)
    # no workflow engine, no tracker: not installed, so nothing can import them
    missing = _run(python, "-c", "import importlib.util as u; print([m for m in "
                   "('snakemake', 'mlflow', 'jsonschema', 'skops') if u.find_spec(m)])")
    assert missing.stdout.strip() == "[]"
    readme = REPO / "README.md"
    text = readme.read_text()
    start = text.index("## In a notebook")
    line, example = next((n, code) for n, code in python_blocks(readme) if text.index(code) > start)
    (tmp_path / "example.py").write_text(example)
    ran = _run(python, "example.py", cwd=tmp_path)
    assert "loss" in ran.stdout, f"README.md:{line}"
    assert (tmp_path / "landscape.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
