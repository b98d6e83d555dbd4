"""Runs in MLflow, without a job ever importing mlflow.

A job writes its run as a record file (`records`); a logging process started by the main
snakemake process (`service`) logs each record to the store as it appears (`logger`, the only
module that imports mlflow) and deletes it. `settings` says where runs go (the environment's
MLFLOW_TRACKING_URI and experiment) and checks that a tracking server answers; `periodic`
is the small timer a job uses to watch that its snakemake invocation is still alive.
"""
