"""What every workflow script does around its one stage call: log file and MLflow run."""

from __future__ import annotations

import gc
import logging
import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def log_to(path):
    """Send logging, warnings and stray prints of this job to its Snakemake log file."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", buffering=1) as handle:
        handler = logging.StreamHandler(handle)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        logging.captureWarnings(True)
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = handle
        try:
            yield
        except BaseException:
            logging.getLogger("losscape").exception("job failed")
            raise
        finally:
            sys.stdout, sys.stderr = saved
            root.removeHandler(handler)
            logging.captureWarnings(False)


FAST_EXIT_ENV = "LOSSCAPE_FAST_EXIT"  # "0": a job exits the ordinary way (for debugging)


def _is_snakemake_script() -> bool:
    """Running as a Snakemake `script:` job (its own short-lived interpreter), not in-process."""
    if os.environ.get(FAST_EXIT_ENV, "1") == "0":
        return False
    return f"{os.sep}.snakemake{os.sep}scripts{os.sep}" in os.path.abspath(sys.argv[0] or "")


@contextmanager
def pipeline_job(snakemake, stage: str):
    """Log file plus one MLflow run named after the rule and its wildcards.

    A job is a short-lived process: its garbage collector is off (the imports alone set off
    ~1 s of collections that free nothing), and once its run is closed and its files
    written it leaves with os._exit, skipping the ~1 s teardown of mlflow's and pandas'
    ~300k objects. A failing job raises as usual, so Snakemake sees its traceback.
    """
    from losscape.pipeline.tracking import job_run

    fast = _is_snakemake_script()
    if fast:
        gc.disable()
    wildcards = {k: v for k, v in snakemake.wildcards.items()}
    # A param that does not apply to this job (None) would only clutter the run.
    params = {k: v for k, v in snakemake.params.items() if v is not None}
    with log_to(snakemake.log[0]), warnings.catch_warnings():
        warnings.simplefilter("default")
        with job_run(stage, snakemake.rule, wildcards, params) as run:
            yield run
    if fast:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
