# Rules figure_optimizers (the PNG) and figure_optimizers_animated (the PNG and the GIF).
from losscape import analysis_figures
from losscape.jobs import pipeline_job

inputs = (snakemake.input.runs, snakemake.input.paths, snakemake.input.landscape)
with pipeline_job(snakemake, "figures") as run:
    analysis_run = run.link_to_producer(snakemake.input.runs)
    analysis_figures.optimizer_figure(*inputs, snakemake.output.png)
    if "gif" in snakemake.output.keys():
        analysis_figures.optimizer_animation(*inputs, snakemake.output.gif)
    for figure in snakemake.output:
        run.log_artifact(figure, "figures")
        if analysis_run:
            run.log_artifact_to(analysis_run, figure, "figures")
