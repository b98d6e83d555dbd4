from losscape import figures
from losscape.jobs import pipeline_job

with pipeline_job(snakemake, "figures") as run:
    run.link_to_producer(snakemake.input.weights)
    figures.fit_figure(
        snakemake.input.weights, snakemake.input.data, snakemake.params.function, snakemake.output[0]
    )
    run.log_artifact(snakemake.output[0], "figures")
