"""Where runs go: the tracking address and experiment, from the environment, and the check
that a tracking server answers.

Light on purpose (no mlflow at import): the Snakefile reads it while it parses, and the check
must come before any job starts, not after mlflow's 2-second import.
"""

from __future__ import annotations

import hashlib
import os
import re

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
# Environment variables whose values never appear in a message or a file we write
SECRET_ENV = ("MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")


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
        with urllib.request.urlopen(server_request(f"{uri.rstrip('/')}/health"),
                                    timeout=HEALTH_TIMEOUT):
            return
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):  # it answers, and asks for credentials: MLflow's to send
            return
        problem = f"HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError) as error:
        problem = str(getattr(error, "reason", error))
    raise RuntimeError(
        f"MLFLOW_TRACKING_URI={redact(uri)}: the tracking server does not answer "
        f"({redact(problem)}) within "
        f"{HEALTH_TIMEOUT:g} s. Start it (mlflow server ...), fix the address, or unset "
        f"MLFLOW_TRACKING_URI to use the local store sqlite:///mlflow.db")


_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]*@")


def redact(text: str) -> str:
    """`text` with the credentials of any address (`user:password@`) and the values of
    MLFLOW_TRACKING_PASSWORD and MLFLOW_TRACKING_TOKEN replaced by `***`: for every message and
    file the pipeline writes."""
    text = _CREDENTIALS.sub("***@", str(text))
    for name in SECRET_ENV:
        secret = os.environ.get(name, "")
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def store_id(uri: str | None = None) -> str:
    """The store a record belongs to, as a hash: the address without its credentials, a local
    SQLite or file store by its absolute path (so that the same store reached from another
    folder is the same)."""
    uri = _CREDENTIALS.sub("", uri or tracking_uri())
    if uri.startswith("sqlite:///"):
        uri = "sqlite:///" + os.path.abspath(uri.removeprefix("sqlite:///"))
    elif "://" not in uri:
        uri = os.path.abspath(uri)
    return hashlib.sha256(uri.encode()).hexdigest()


def server_request(url: str):
    """A urllib request for `url` on the tracking server, with its credentials (from the
    address, or MLFLOW_TRACKING_USERNAME/PASSWORD, or MLFLOW_TRACKING_TOKEN) as MLflow's client
    sends them: urllib itself cannot read `user:password@` in an address."""
    import base64
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    user = urllib.parse.unquote(parts.username or "") or os.environ.get("MLFLOW_TRACKING_USERNAME", "")
    password = (urllib.parse.unquote(parts.password or "")
                or os.environ.get("MLFLOW_TRACKING_PASSWORD", ""))
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    if ":" in (parts.hostname or ""):  # an IPv6 address
        netloc = f"[{parts.hostname}]" + (f":{parts.port}" if parts.port else "")
    request = urllib.request.Request(urllib.parse.urlunsplit(parts._replace(netloc=netloc)))
    if user or password:
        pair = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {pair}")
    elif os.environ.get("MLFLOW_TRACKING_TOKEN"):
        request.add_header("Authorization", f"Bearer {os.environ['MLFLOW_TRACKING_TOKEN']}")
    return request
