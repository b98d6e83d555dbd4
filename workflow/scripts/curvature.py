from sklandscape.api.analysis_plots import CURVATURE_FIGURES
from sklandscape.pipeline.jobs import pipeline_job
from sklandscape.pipeline.stages import analyses as analysis_stages

out = snakemake.output
with pipeline_job(snakemake, "curvature") as run:
    run.link_to_producer(snakemake.input.landscape)
    figures = {which: out[f"{which}_png"] for which in CURVATURE_FIGURES}
    metrics, tags = analysis_stages.curvature(
        snakemake.input.weights, snakemake.input.data, snakemake.input.landscape,
        snakemake.params.spec, snakemake.wildcards.analysis,
        tables={table: out[table] for table in analysis_stages.CURVATURE_TABLES}, figures=figures,
        n_jobs=snakemake.threads,
    )
    run.log_metrics(metrics)
    run.set_tags(tags)
    run.record_output(out.hessian)
    for figure in figures.values():
        run.log_artifact(figure, "figures")
