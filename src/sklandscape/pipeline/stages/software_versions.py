"""The report's software versions: which packages computed the results (rule
software_versions). Standard library only: the Snakefile reads the versions while it parses."""

from __future__ import annotations

import html
import importlib.metadata
import platform
from pathlib import Path

VERSIONED = ("sklandscape", "numpy", "scipy", "scikit-learn", "pandas", "pyarrow", "matplotlib",
             "mlflow", "skops", "plotly", "snakemake")


def installed_versions() -> dict[str, str]:
    """Package -> installed version (the rule's param: an upgrade reruns the rule, nothing
    else)."""
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def write_versions_page(path, versions: dict[str, str], log_path) -> None:
    """The versions as a small HTML table (whole or not at all), and the same in the rule's
    log."""
    from sklandscape import io  # in the job only: parsing reads installed_versions alone

    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    Path(log_path).write_text(f"software versions: {versions}\n")
    rows = "\n".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
                     for k, v in versions.items())
    io.write_text_file(
        path,
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>software versions</title>"
        "</head><body><h1>Software versions</h1><p>The packages that computed these results."
        f"</p><table>\n<tr><th>package</th><th>version</th></tr>\n{rows}\n</table></body></html>\n"
    )
