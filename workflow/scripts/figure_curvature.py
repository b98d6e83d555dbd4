from losscape import analysis_figures
from losscape.jobs import pipeline_job

with pipeline_job(snakemake, "figures") as run:
    analysis_run = run.link_to_producer(snakemake.input.hessian)
    analysis_figures.curvature_figures(
        snakemake.input.hessian, snakemake.input.curvature_map, snakemake.output.hessian,
        snakemake.output.convexity, snakemake.output.plateau,
    )
    for figure in snakemake.output:
        run.log_artifact(figure, "figures")
        # The analysis' own run shows its figures too, so the UI needs no extra click.
        if analysis_run:
            run.log_artifact_to(analysis_run, figure, "figures")
