"""The code a job runs, found by reading its source: every sklandscape module that importing a
workflow script really loads (the reference: a fresh interpreter's sys.modules) is among them,
and its hash follows the content, not the time of a file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sklandscape.provenance import PACKAGE, code_files, code_sha256

SCRIPTS = sorted((PACKAGE.parents[1] / "workflow" / "scripts").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_every_module_a_script_loads_is_in_its_code(script):
    imports = "\n".join(line for line in script.read_text().splitlines()
                        if line.startswith(("import ", "from ")))
    code = imports + ("\nimport json, sys\nprint(json.dumps(sorted(m.__file__ for n, m in "
                      "list(sys.modules.items()) if n.startswith('sklandscape') and "
                      "getattr(m, '__file__', None))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                       text=True, check=True).stdout)
    found = {str(p) for p in code_files(script)}
    assert loaded and set(map(str, map(Path, loaded))) <= found


def test_the_hash_follows_the_content(tmp_path):
    script = tmp_path / "job.py"
    script.write_text("from sklandscape.pipeline.stages import software_versions\n")
    first = code_sha256(script)
    script.touch()
    assert code_sha256(script) == first
    script.write_text("from sklandscape.pipeline.stages import software_versions  # edited\n")
    assert code_sha256(script) != first


def test_a_direction_kinds_code_is_its_own_module_not_every_kinds():
    """The direction kinds share one script, which imports a kind's module by name (the
    registry's `result`): each kind's code hash follows its own module, so that an edit to the
    Hessian plane's code reruns hessian_plane jobs and no random_plane job."""
    from sklandscape.kinds import KINDS

    script = PACKAGE.parents[1] / "workflow" / "scripts" / "direction.py"

    def files(kind):
        return {p.relative_to(PACKAGE).as_posix()
                for p in code_files(script, (KINDS[kind].result.split(":")[0],))}

    assert "api/hessian_plane.py" in files("hessian_plane")
    assert "api/hessian_plane.py" not in files("random_plane")
    assert "api/path_functions.py" in files("interpolation")
    assert "api/path_functions.py" not in files("weight_pairs")
    assert code_sha256(script, ("sklandscape.api.hessian_plane",)) != code_sha256(script)


@pytest.mark.parametrize("kind", ["weight_pairs", "hessian_plane", "trajectory_pca"])
def test_every_module_a_direction_job_loads_is_in_its_code(kind):
    """What the shared script loads once it has imported its kind's `result` by name."""
    from sklandscape.kinds import KINDS

    script = PACKAGE.parents[1] / "workflow" / "scripts" / "direction.py"
    code = ("from sklandscape.pipeline.stages.directions import result_function\n"
            f"result_function({kind!r})\nimport json, sys\nprint(json.dumps(sorted(m.__file__ "
            "for n, m in list(sys.modules.items()) if n.startswith('sklandscape') and "
            "getattr(m, '__file__', None))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                       text=True, check=True).stdout)
    found = {str(p) for p in code_files(script, (KINDS[kind].result.split(":")[0],))}
    assert loaded and set(map(str, map(Path, loaded))) <= found
