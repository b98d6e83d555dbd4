"""The data stage: a generated set, one of scikit-learn's bundled sets, or a user's file,
as results/data/{dataset}.parquet (x0, …, y) with what it came from in its metadata."""

from __future__ import annotations

import logging

import pandas as pd

from sklandscape import io
from sklandscape.data.datasets import (
    generate,
    target_names,
    target_of,
    user_dataset,
)

log = logging.getLogger("sklandscape")



def bundled_dataset(spec: dict, out_path) -> dict:
    """One of scikit-learn's bundled sets as results/data/{dataset}.parquet (x0, …, y), the
    features' and the target's own names in its metadata."""
    from sklandscape.data.bundled import load_bundled

    data = load_bundled(spec["sklearn"], spec.get("features"))
    frame = data.frame()
    io.write_table(frame, out_path, {"dataset": spec, "source": {
        "sklearn": data.name, "columns": data.columns()}})
    log.info("wrote %d rows of scikit-learn's %s to %s", len(frame), data.name, out_path)
    return _dataset_metrics(frame)


def make_dataset(spec: dict, out_path) -> dict:
    frame = generate(**spec)
    io.write_table(frame, out_path, {"dataset": spec})
    log.info("wrote %d rows to %s", len(frame), out_path)
    return _dataset_metrics(frame)


def import_dataset(source_path, spec: dict, expected_sha256: str, out_path) -> dict:
    """A user's CSV/Parquet file as results/data/{dataset}.parquet (x0, …, y) with its sha256."""
    from sklandscape.provenance import sha256_file

    digest = sha256_file(source_path)
    if expected_sha256 and digest != expected_sha256:
        raise io.DataFileError(
            f"{source_path} changed after snakemake planned this run (sha256 {digest[:12]}…, "
            f"planned {expected_sha256[:12]}…); run snakemake again"
        )
    raw = io.read_user_table(source_path)
    target = target_of(spec)
    frame = user_dataset(raw, spec["features"], target, source_path)
    targets = target_names(frame.columns)
    names = [c for c in frame.columns if c not in targets]
    source = {
        "path": str(source_path),
        "sha256": digest,
        "columns": {**dict(zip(names, spec["features"])),
                    **dict(zip(targets, [target] if isinstance(target, str) else target))},
    }
    io.write_table(frame, out_path, {"dataset": spec, "source": source})
    log.info("copied %d rows of %s (sha256 %s) to %s", len(frame), source_path, digest, out_path)
    return _dataset_metrics(frame)


def _dataset_metrics(frame) -> dict:
    targets = target_names(frame.columns)
    if len(targets) > 1:  # a multi-output regressor's targets: each one's mean and spread
        return {"n_samples": len(frame), "n_targets": len(targets),
                **{f"{t}_mean": float(frame[t].mean()) for t in targets},
                **{f"{t}_std": float(frame[t].std()) for t in targets}}
    y = frame["y"]
    if not pd.api.types.is_numeric_dtype(y):  # class labels
        return {"n_samples": len(frame), "n_classes": int(y.nunique()),
                "largest_class_share": float(y.value_counts(normalize=True).iloc[0])}
    return {"n_samples": len(frame), "y_mean": float(y.mean()), "y_std": float(y.std())}
