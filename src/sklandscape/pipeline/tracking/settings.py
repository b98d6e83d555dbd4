"""Where runs go: the tracking address and experiment, from the environment, and the check
that a tracking server answers.

Light on purpose (no mlflow at import): the Snakefile reads it while it parses, and the check
must come before any job starts, not after mlflow's 2-second import.
"""

from __future__ import annotations

import os

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_EXPERIMENT = "sklandscape"

# MLflow retries a request to a tracking server 7 times with a doubling wait (254 s in all)
# before it fails; the logging service would then hang for minutes after the server is gone.
# Unless the user chose otherwise: 2 retries, 1 s and 2 s apart, 10 s per request.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
                 "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                 "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
for _name, _value in HTTP_DEFAULTS.items():
    os.environ.setdefault(_name, _value)
# mlflow prints "View run … at: <url>" for every run it ends on a server: 30 lines of noise in
# snakemake's output (the docs say how to find a run).
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
HEALTH_TIMEOUT = 5.0


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def experiment_name() -> str:
    return os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT


def check_server(uri: str | None = None) -> None:
    """A tracking server must answer its /health within HEALTH_TIMEOUT seconds: a clear error
    before any job starts, not minutes of retries later. Local stores pass."""
    import urllib.error
    import urllib.request

    uri = uri or tracking_uri()
    if not uri.startswith(("http://", "https://")):
        return
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=HEALTH_TIMEOUT):
            return
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):  # it answers, and asks for credentials: MLflow's to send
            return
        problem = f"HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError) as error:
        problem = str(getattr(error, "reason", error))
    raise RuntimeError(
        f"MLFLOW_TRACKING_URI={uri}: the tracking server does not answer ({problem}) within "
        f"{HEALTH_TIMEOUT:g} s. Start it (mlflow server ...), fix the address, or unset "
        f"MLFLOW_TRACKING_URI to use the local store sqlite:///mlflow.db")
