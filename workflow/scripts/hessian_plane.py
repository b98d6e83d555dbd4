from sklandscape.pipeline.jobs import pipeline_job
from sklandscape.pipeline.stages import directions as direction_stages
from sklandscape.pipeline.stages import pages as page_stages

out = snakemake.output
with pipeline_job(snakemake, "landscape") as run:
    run.link_to_producer(snakemake.input.weights)
    metrics = direction_stages.hessian_plane_landscape(
        snakemake.input.weights, snakemake.input.data, snakemake.params.spec,
        snakemake.params.config_hash, snakemake.wildcards.landscape,
        table=out.table, directions=out.directions, topology=out.topology, figure=out.figure,
        n_jobs=snakemake.threads,
    )
    run.log_metrics(metrics)
    run.log_artifact(out.figure, "figures")
    page_stages.landscape_page(out.table, out.page)
    run.log_artifact(out.page, "figures")
    run.record_output(out.table)
