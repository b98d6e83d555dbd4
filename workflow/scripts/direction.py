# The rule of every direction kind (workflow/rules/directions.smk): the kind's stage, then its
# 3-D page, each file logged to the job's MLflow run.
from sklandscape.pipeline.jobs import pipeline_job
from sklandscape.pipeline.stages import directions, pages

out = snakemake.output
with pipeline_job(snakemake, "landscape") as run:
    run.link_to_producer(snakemake.input.weights)
    result = directions.direction_landscape(
        snakemake.params.kind, dict(snakemake.input.items()), snakemake.params.spec,
        snakemake.params.config_hash, snakemake.wildcards.landscape, dict(out.items()),
        n_jobs=snakemake.threads,
    )
    run.log_metrics(result.metrics)
    if "page" in out.keys():
        pages.landscape_page(out.table, out.page, path_table=out.get("path"))
    for key, path in out.items():
        if key in ("csv", "html", "path") or key.endswith("figure") or key == "page":
            run.log_artifact(path, "tables" if key in ("csv", "html", "path") else "figures")
    run.record_output(out.table)
