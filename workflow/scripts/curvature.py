from losscape import analyses
from losscape.jobs import pipeline_job

with pipeline_job(snakemake, "curvature") as run:
    run.link_to_producer(snakemake.input.landscape)
    metrics, tags = analyses.curvature(
        snakemake.input.weights, snakemake.input.data, snakemake.input.landscape,
        snakemake.params.spec, snakemake.output.hessian, snakemake.output.curvature_map,
    )
    run.log_metrics(metrics)
    run.set_tags(tags)
    run.record_output(snakemake.output.hessian)
