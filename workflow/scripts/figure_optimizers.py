# Both the PNG (rule figure_optimizers) and the GIF (rule animation_optimizers).
from losscape import analysis_figures
from losscape.jobs import pipeline_job

with pipeline_job(snakemake, "figures") as run:
    analysis_run = run.link_to_producer(snakemake.input.runs)
    out = snakemake.output[0]
    if out.endswith(".gif"):
        analysis_figures.optimizer_animation(
            snakemake.input.runs, snakemake.input.paths, snakemake.input.landscape, out
        )
    else:
        analysis_figures.optimizer_figure(
            snakemake.input.runs, snakemake.input.paths, snakemake.input.landscape, out
        )
    run.log_artifact(out, "figures")
    if analysis_run:
        run.log_artifact_to(analysis_run, out, "figures")
