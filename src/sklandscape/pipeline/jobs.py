"""What every workflow script does around its one stage call: log file and run record."""

from __future__ import annotations

import gc
import logging
import os
import sys
import warnings
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sklandscape.pipeline.tracking.periodic import Periodic
from sklandscape.pipeline.tracking.records import (
    GIT_COMMIT_ENV,
    GIT_DIRTY_ENV,
    INVOCATION_PROCESS_ENV,
    ORPHANED,
    process_alive,
)
from sklandscape.provenance import sha256_file, stamping


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
            logging.getLogger("sklandscape").exception("job failed")
            raise
        finally:
            sys.stdout, sys.stderr = saved
            root.removeHandler(handler)
            logging.captureWarnings(False)


ORPHAN_CHECK_SECONDS = 2.0


def _watched_invocation() -> str | None:
    """'host:pid:start' of the snakemake process that started this job, when it runs on this host
    (elsewhere, as on SLURM, its pid says nothing here)."""
    process = os.environ.get(INVOCATION_PROCESS_ENV, "")
    return process if process_alive(process) else None


def _orphan_watch(process: str | None) -> Periodic | nullcontext:
    """Stops the job (as a KeyboardInterrupt: its run ends KILLED) when the snakemake process
    that started it is gone, on this host: a main process killed alone (kill -9) otherwise
    leaves its jobs running, and the next invocation starts them again beside them.

    Jobs on other hosts (SLURM) are not watched: their invocation's pid means nothing there.
    """
    import _thread
    import signal

    if process is None:
        return nullcontext()

    def check() -> bool:
        if process_alive(process):
            return False
        os.environ["SKLANDSCAPE_INTERRUPTED"] = ORPHANED  # the signal handler's message
        _thread.interrupt_main(signal.SIGTERM)
        return True

    return Periodic(ORPHAN_CHECK_SECONDS, check, "orphan-watch")


@contextmanager
def _rebuilding_damaged_inputs():
    """An input table of this job found damaged inside (a page checksum that fails) is one of
    the pipeline's own intermediates: delete it, so that the next run makes it again and
    everything that depends on it, and say so. (A file cut short is caught earlier, at the
    start of the run: sklandscape.io.damaged_parquet.)"""
    from sklandscape.errors import DataFileError

    try:
        yield
    except DataFileError as error:
        damaged = getattr(error, "damaged_file", None)
        results = os.path.abspath("results")  # the workflow's outputs (the job runs in its root)
        if damaged is not None and os.path.abspath(damaged).startswith(results + os.sep):
            os.unlink(damaged)
            raise DataFileError(
                f"{damaged}: not a readable Parquet file ({error.__cause__}); it is damaged or "
                f"was cut short. It was made by this pipeline, so it is deleted: the next run "
                f"rebuilds it and what depends on it") from error
        raise


def _provenance(snakemake) -> dict:
    """What every table and figure of the job carries: the code's commit, whether the tree
    differed from it, the hash of the code the job ran, and each named input file's sha256. A tiled landscape's tiles are left out: the gathered table is then the
    untiled one, byte for byte (both name the same weights and data)."""
    inputs = {name: {"path": str(path), "sha256": sha256_file(path)}
              for name, path in sorted(snakemake.input.items())
              if name != "tiles" and isinstance(path, str) and os.path.isfile(path)}
    provenance = {"code_commit": os.environ.get(GIT_COMMIT_ENV) or "unknown",
                  # whether the package's or the workflow's files differed from that commit
                  "code_dirty": os.environ.get(GIT_DIRTY_ENV) == "true",
                  "inputs": inputs}
    if "code" in snakemake.params.keys():  # the script and the library it ran, by content
        provenance["code_sha256"] = snakemake.params.code
    return provenance


@contextmanager
def pipeline_job(snakemake, stage: str, params: dict | None = None, run_prefix: str | None = None):
    """Log file plus one run record (one MLflow run, named after the rule and its wildcards,
    logged by the main process: sklandscape.pipeline.tracking.records). A failing job raises,
    so Snakemake sees its traceback."""
    from sklandscape.pipeline.stages.descriptions import describe
    from sklandscape.pipeline.tracking.records import job_record

    # The script's imports are done: their objects (numpy's, pandas', matplotlib's modules)
    # live as long as this short process. Frozen, the garbage collector stops walking them in
    # every collection during the job and at exit: 0.1-0.15 s of CPU a job, measured.
    gc.freeze()
    wildcards = {k: v for k, v in snakemake.wildcards.items()}
    # A param that does not apply to this job (None) would only clutter the run.
    if params is None:
        params = {k: v for k, v in snakemake.params.items() if v is not None}
    description = describe(snakemake.rule, wildcards, params)
    with log_to(snakemake.log[0]), warnings.catch_warnings(), _rebuilding_damaged_inputs(), \
            stamping(_provenance(snakemake)):
        warnings.simplefilter("default")
        invocation = _watched_invocation()
        with _orphan_watch(invocation), job_record(stage, run_prefix or snakemake.rule,
                                                   wildcards, params, description) as run:
            if "data" in snakemake.input.keys():  # the dataset input of every run that reads data
                data = snakemake.input.data
                run.log_dataset(data, name=os.path.splitext(os.path.basename(data))[0])
            yield run
            # Done, but the invocation died meanwhile: Snakemake never learns of it and the
            # next run redoes the job (its outputs are marked incomplete), so it did not finish.
            if invocation is not None and not process_alive(invocation):
                raise KeyboardInterrupt(ORPHANED)
