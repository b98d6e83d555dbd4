from sklandscape.pipeline.jobs import pipeline_job
from sklandscape.pipeline.stages import directions as direction_stages

out = snakemake.output
with pipeline_job(snakemake, "landscape") as run:
    run.link_to_producer(snakemake.input.weights)
    metrics = direction_stages.interpolation_landscape(
        snakemake.input.initial_weights, snakemake.input.weights, snakemake.input.data,
        snakemake.params.spec, snakemake.params.config_hash, snakemake.wildcards.landscape,
        table=out.table, figure=out.figure,
        n_jobs=snakemake.threads,
    )
    run.log_metrics(metrics)
    run.log_artifact(out.figure, "figures")
    run.record_output(out.table)
