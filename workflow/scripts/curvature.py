from losscape.pipeline import analysis_stages
from losscape.pipeline.jobs import pipeline_job

out = snakemake.output
with pipeline_job(snakemake, "curvature") as run:
    run.link_to_producer(snakemake.input.landscape)
    metrics, tags = analysis_stages.curvature(
        snakemake.input.weights, snakemake.input.data, snakemake.input.landscape,
        snakemake.params.spec, out.hessian, out.curvature_map,
        out.hessian_png, out.convexity_png, out.plateau_png, snakemake.wildcards.analysis,
    )
    run.log_metrics(metrics)
    run.set_tags(tags)
    run.record_output(out.hessian)
    for figure in (out.hessian_png, out.convexity_png, out.plateau_png):
        run.log_artifact(figure, "figures")
