from losscape import analysis_figures
from losscape.jobs import pipeline_job

with pipeline_job(snakemake, "figures") as run:
    analysis_run = run.link_to_producer(snakemake.input.worst)
    analysis_figures.attack_figure(
        snakemake.input.landscape, snakemake.input.worst, snakemake.input.ascent,
        snakemake.input.paths, snakemake.input.field, snakemake.output[0],
    )
    run.log_artifact(snakemake.output[0], "figures")
    if analysis_run:
        run.log_artifact_to(analysis_run, snakemake.output[0], "figures")
