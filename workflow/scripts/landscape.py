from losscape import stages
from losscape.jobs import pipeline_job

spec = snakemake.params.spec
with pipeline_job(snakemake, "landscape") as run:
    run.link_to_producer(snakemake.input.weights)
    if spec["kind"] == "input":
        metrics = stages.input_space_landscape(
            snakemake.input.weights, snakemake.input.data, snakemake.output[0], spec,
            snakemake.params.target_function, snakemake.params.config_hash,
        )
    else:
        metrics = stages.weights_landscape(
            snakemake.input.weights, snakemake.input.data, snakemake.output[0], spec,
            snakemake.params.config_hash,
        )
    run.log_metrics(metrics)
    run.record_output(snakemake.output[0])
