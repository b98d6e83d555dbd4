from losscape import analyses
from losscape.jobs import pipeline_job

with pipeline_job(snakemake, "input_attack") as run:
    run.link_to_producer(snakemake.input.landscape)
    metrics, tags = analyses.input_attack(
        snakemake.input.weights, snakemake.input.data, snakemake.input.landscape,
        snakemake.params.spec, snakemake.params.target_function, snakemake.output.worst,
        snakemake.output.ascent, snakemake.output.paths, snakemake.output.field,
    )
    run.log_metrics(metrics)
    run.set_tags(tags)
    run.record_output(snakemake.output.worst)
