"""The Snakemake pipeline's own glue: one function per stage (files in, files out), the
config checks at parse time, the MLflow tracking (the only module that imports mlflow),
the job wrapper, and the config documentation.

The top layer: may import everything below it, including the public API; nothing imports it
except workflow/scripts and the Snakefile.
"""
