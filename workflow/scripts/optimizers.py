# Rules optimizers (the PNG and the GIF) and optimizers_without_animation (the PNG).
from sklandscape.pipeline.jobs import pipeline_job
from sklandscape.pipeline.stages import analyses as analysis_stages
from sklandscape.pipeline.stages import pages as page_stages

out = snakemake.output
gif = out.gif if "gif" in out.keys() else None
with pipeline_job(snakemake, "optimizers") as run:
    run.link_to_producer(snakemake.input.landscape)
    metrics, tags = analysis_stages.optimizers(
        snakemake.input.weights, snakemake.input.data, snakemake.input.landscape,
        snakemake.params.spec, snakemake.wildcards.analysis,
        runs=out.runs, paths=out.paths, png=out.png, gif=gif,
        n_jobs=snakemake.threads,
    )
    run.log_metrics(metrics)
    run.set_tags(tags)
    run.record_output(out.runs)
    run.log_artifact(out.png, "figures")
    page_stages.optimizers_page(snakemake.input.landscape, out.paths, out.page, snakemake.wildcards.analysis)
    run.log_artifact(out.page, "figures")
    if gif is not None:
        run.log_artifact(gif, "figures")
