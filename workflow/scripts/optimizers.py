# Rules optimizers (the PNG and the GIF) and optimizers_without_animation (the PNG).
from losscape.pipeline.job_handover import hand_over

hand_over()  # the preloaded job server runs the rest, where one runs

from losscape.pipeline import analysis_stages, page_stages
from losscape.pipeline.jobs import pipeline_job

out = snakemake.output
gif = out.gif if "gif" in out.keys() else None
with pipeline_job(snakemake, "optimizers") as run:
    run.link_to_producer(snakemake.input.landscape)
    metrics, tags = analysis_stages.optimizers(
        snakemake.input.weights, snakemake.input.data, snakemake.input.landscape,
        snakemake.params.spec, out.runs, out.paths, out.png, gif, snakemake.wildcards.analysis,
    )
    run.log_metrics(metrics)
    run.set_tags(tags)
    run.record_output(out.runs)
    run.log_artifact(out.png, "figures")
    page_stages.optimizers_page(snakemake.input.landscape, out.paths, out.page, snakemake.wildcards.analysis)
    run.log_artifact(out.page, "figures")
    if gif is not None:
        run.log_artifact(gif, "figures")
