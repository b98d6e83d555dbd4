from sklandscape.pipeline.jobs import pipeline_job
from sklandscape.pipeline.stages import figures, landscapes, pages

# Named like a one-job landscape's run, linked to the training run; its tiles' runs are
# moved under it, so the landscape is one entry in MLflow's run list.
with pipeline_job(snakemake, "landscape", run_prefix="landscape") as run:
    run.link_to_producer(snakemake.input.weights)
    run.adopt(snakemake.input.tiles)
    out = snakemake.output
    run.log_metrics(landscapes.gather_landscape(snakemake.input.tiles, out.table))
    run.record_output(out.table)
    figures.landscape_figure(out.table, snakemake.input.data, out.figure)
    run.log_artifact(out.figure, "figures")
    pages.landscape_page(out.table, out.page)
    run.log_artifact(out.page, "figures")
