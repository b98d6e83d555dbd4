"""The stage of every landscape kind that looks along chosen directions (weight_pairs,
random_plane, hessian_plane, interpolation, trajectory_pca, and any kind the registry adds
with a `result` function): files in, files (tables and figures) out, the Result back. The
computing and drawing is the public API's; what a kind reads and writes is its registry entry
(sklandscape.kinds), which also makes its rule (workflow/rules/directions.smk).

Each kind computes and draws in one job: a job's fixed cost (Python, MLflow, SQLite) is
several times the work of these small grids, so a separate figure job would double it.
"""

from __future__ import annotations

import importlib

from sklandscape import io
from sklandscape.api.topology import add_topology, threshold_of
from sklandscape.kinds import KINDS
from sklandscape.pipeline.stages.landscapes import network_data


def result_function(kind: str):
    """The function that makes the kind's Result (its registry entry's `result`)."""
    module, function = KINDS[kind].result.split(":")
    return getattr(importlib.import_module(module), function)


def direction_landscape(kind: str, inputs: dict, spec: dict, config_hash: str, name: str,
                        written: dict, n_jobs=None):
    """Compute landscape `name` of `kind` from `inputs` (weights, data, and each file the
    kind reads) and write every file of `written` (output name -> path, see
    sklandscape.kinds.job_outputs) but
    its 3-D page. Returns the Result."""
    entry = KINDS[kind]
    data = network_data(inputs["weights"], inputs["data"])
    files = {f"{read}_file": inputs[read] for read in entry.reads}
    result = result_function(kind)(
        data.scored(spec), data.X, data.y, spec, name, heldout=data.heldout(),
        samples=data.rows(spec), n_jobs=n_jobs, weights_file=inputs["weights"],
        config_hash=config_hash, **files)
    if entry.two_d:
        result = add_topology(result, threshold_of(spec))
    main, *others = result.tables
    if set(others) != set(entry.tables) | ({"topology"} if entry.two_d else set()):
        raise RuntimeError(f"{kind} made the tables {others} besides its main one; its "
                           f"registry entry declares {list(entry.tables)}")
    result.to_parquet(written["table"])
    for table in others:
        result.to_parquet(written[table], table)
    if "stats" in others:
        stats = result.tables["stats"]
        io.write_csv(stats, written["csv"])
        io.write_sortable_html(stats, written["html"], result.captions.get("stats", name),
                               caption=result.captions.get("stats.columns", ""))
    result.save_figure(written["figure"])
    for figure in entry.figures:
        result.save_figure(written[f"{figure}_figure"], figure)
    return result
