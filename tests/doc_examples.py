"""Run the Python examples of a Markdown page, top to bottom, in one namespace: the docs'
code cannot rot, because the tests run it (tests/project/test_docs.py).

    python tests/doc_examples.py docs/tutorial.md --cwd docs   # also redraws its figures
"""

from __future__ import annotations

import argparse
import os
import re
from contextlib import contextmanager
from pathlib import Path

BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.M | re.S)


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """(line number, code) of every ```python block of the page."""
    text = page.read_text()
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in BLOCK.finditer(text)]


@contextmanager
def working_directory(folder: Path):
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def run_examples(page: Path, cwd: Path) -> int:
    """Execute the page's blocks in order (figures/ made under cwd); returns how many ran."""
    page = Path(page).resolve()
    namespace: dict = {"__name__": "__doc_example__"}
    (Path(cwd) / "figures").mkdir(parents=True, exist_ok=True)
    blocks = python_blocks(page)
    with working_directory(cwd):
        for line, code in blocks:
            exec(compile(code, f"{page}:{line}", "exec"), namespace)  # noqa: S102
    return len(blocks)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("--cwd", type=Path, default=Path.cwd())
    args = parser.parse_args()
    print(f"{run_examples(args.page, args.cwd)} examples of {args.page} ran")
