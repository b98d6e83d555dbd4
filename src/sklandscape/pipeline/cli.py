"""`python -m sklandscape` (also the `sklandscape` command): the version, where the docs are, and
the pipeline run on a config of your choice."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

DOCS = "docs/ in the repository (`mkdocs serve` to browse it; start at docs/index.md)"
# The checkout this package was installed from (an editable install), if it is one.
CHECKOUT = Path(__file__).resolve().parents[3]


def _version() -> str:
    from sklandscape import __version__

    return __version__


def _workflow_directory(given: str | None) -> Path:
    """Where the workflow is (workflow/Snakefile): --directory, else the current folder, else
    this checkout."""
    candidates = [Path(given)] if given else [Path.cwd(), CHECKOUT]
    for folder in candidates:
        if (folder / "workflow" / "Snakefile").is_file():
            return folder.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise SystemExit(f"sklandscape run: no sklandscape workflow (workflow/Snakefile) in "
                     f"{tried}; run it from a clone of the sklandscape repository or pass "
                     f"--directory")


def run(config: str | None, directory: str | None, cores: int, extra: list[str]) -> int:
    folder = _workflow_directory(directory)
    snakemake = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"
    command = [snakemake, "--cores", str(cores)]
    if config:
        path = Path(config)
        if not path.exists():
            raise SystemExit(f"sklandscape run: no config file {config}")
        if not path.is_file():  # /dev/zero, a FIFO: Snakemake would read it for ever
            raise SystemExit(f"sklandscape run: {config} is not a regular file")
        # Only this file: without --replace-workflow-config, Snakemake merges it into the
        # default config/config.yaml and runs both.
        command += ["--configfile", str(path.resolve()), "--replace-workflow-config"]
    command += extra
    print("sklandscape run:", " ".join(command), f"(in {folder})", flush=True)
    return subprocess.call(command, cwd=folder, env=os.environ.copy())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sklandscape",
        description="Loss landscapes of scikit-learn MLPs. In Python: `import sklandscape as sl; "
                    "sl.weights(model, X, y, axes=(...)).plot()`. From here: run the pipeline.",
        epilog=f"Documentation: {DOCS}.")
    parser.add_argument("--version", action="version", version=f"sklandscape {_version()}")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("docs", help="say where the documentation is")
    runner = commands.add_parser(
        "run", help="run the Snakemake pipeline (on config/config.yaml, or only on CONFIG)",
        description="Runs snakemake in the workflow's folder. Arguments after -- go to "
                    "snakemake as they are (e.g. -- -n for a dry run).")
    runner.add_argument("config", nargs="?", help="a config file to run alone (default: the "
                                                  "workflow's config/config.yaml)")
    runner.add_argument("--cores", type=int, default=4, help="as snakemake's (default 4)")
    runner.add_argument("--directory", help="the workflow's folder (default: the current one, "
                                            "else the checkout sklandscape was installed from)")
    args, extra = parser.parse_known_args(argv)
    if extra and extra[0] == "--":
        extra = extra[1:]
    if args.command == "run":
        return run(args.config, args.directory, args.cores, extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "docs":
        print(f"sklandscape {_version()} documentation: {DOCS}")
        return 0
    parser.print_help()
    return 0
