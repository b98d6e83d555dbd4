from losscape import figures
from losscape.jobs import pipeline_job

with pipeline_job(snakemake, "figures") as run:
    run.link_to_producer(snakemake.input.weights)
    figures.network_figure(snakemake.input.weights, snakemake.output.network)
    figures.fit_figure(
        snakemake.input.weights, snakemake.input.data, snakemake.params.function,
        snakemake.output.fit,
    )
    for figure in snakemake.output:
        run.log_artifact(figure, "figures")
