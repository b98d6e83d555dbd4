from losscape import analyses
from losscape.jobs import pipeline_job

with pipeline_job(snakemake, "optimizers") as run:
    run.link_to_producer(snakemake.input.landscape)
    metrics, tags = analyses.optimizers(
        snakemake.input.weights, snakemake.input.data, snakemake.input.landscape,
        snakemake.params.spec, snakemake.output.runs, snakemake.output.paths,
    )
    run.log_metrics(metrics)
    run.set_tags(tags)
    run.record_output(snakemake.output.runs)
