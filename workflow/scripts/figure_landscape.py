from losscape import figures
from losscape.jobs import pipeline_job

with pipeline_job(snakemake, "figures") as run:
    landscape_run = run.link_to_producer(snakemake.input.landscape)
    figures.landscape_figure(snakemake.input.landscape, snakemake.input.data, snakemake.output[0])
    run.log_artifact(snakemake.output[0], "figures")
    # The landscape's own run shows its figure too, so the UI needs no extra click.
    if landscape_run:
        run.log_artifact_to(landscape_run, snakemake.output[0], "figures")
