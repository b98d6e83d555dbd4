"""What every workflow script does around its one stage call: log file and MLflow run."""

from __future__ import annotations

import logging
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


@contextmanager
def pipeline_job(snakemake, stage: str):
    """Log file plus one MLflow run named after the rule and its wildcards."""
    from losscape.pipeline.tracking import job_run

    wildcards = {k: v for k, v in snakemake.wildcards.items()}
    # A param that does not apply to this job (None) would only clutter the run.
    params = {k: v for k, v in snakemake.params.items() if v is not None}
    with log_to(snakemake.log[0]), warnings.catch_warnings():
        warnings.simplefilter("default")
        with job_run(stage, snakemake.rule, wildcards, params) as run:
            yield run
