from losscape.pipeline import analysis_figure_stages as analysis_figures
from losscape.pipeline import analysis_stages as analyses
from losscape.pipeline.jobs import pipeline_job

out = snakemake.output
with pipeline_job(snakemake, "input_attack") as run:
    run.link_to_producer(snakemake.input.landscape)
    metrics, tags = analyses.input_attack(
        snakemake.input.weights, snakemake.input.data, snakemake.input.landscape,
        snakemake.params.spec, snakemake.params.target_function, out.worst, out.ascent,
        out.paths, out.field,
    )
    run.log_metrics(metrics)
    run.set_tags(tags)
    run.record_output(out.worst)
    analysis_figures.attack_figure(
        snakemake.input.landscape, out.worst, out.ascent, out.paths, out.field, out.png
    )
    run.log_artifact(out.png, "figures")
