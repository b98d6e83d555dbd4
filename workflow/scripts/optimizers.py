# Rules optimizers (the PNG and the GIF) and optimizers_without_animation (the PNG).
from losscape.pipeline import analysis_figure_stages as analysis_figures
from losscape.pipeline import optimizer_stage as optimizer_analysis
from losscape.pipeline.jobs import pipeline_job

out = snakemake.output
with pipeline_job(snakemake, "optimizers") as run:
    run.link_to_producer(snakemake.input.landscape)
    metrics, tags = optimizer_analysis.optimizers(
        snakemake.input.weights, snakemake.input.data, snakemake.input.landscape,
        snakemake.params.spec, out.runs, out.paths,
    )
    run.log_metrics(metrics)
    run.set_tags(tags)
    run.record_output(out.runs)
    drawn = (out.runs, out.paths, snakemake.input.landscape)
    analysis_figures.optimizer_figure(*drawn, out.png)
    run.log_artifact(out.png, "figures")
    if "gif" in out.keys():
        analysis_figures.optimizer_animation(*drawn, out.gif)
        run.log_artifact(out.gif, "figures")
