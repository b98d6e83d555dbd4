from sklandscape.pipeline.jobs import pipeline_job
from sklandscape.pipeline.stages import figures, landscapes, pages

# Named like a one-job landscape's run, linked to the training run; its tiles' runs are
# moved under it, so the landscape is one entry in MLflow's run list.
with pipeline_job(snakemake, "landscape", run_prefix="landscape") as run:
    run.link_to_producer(snakemake.input.weights)
    run.adopt(snakemake.input.tiles)
    out = snakemake.output
    metrics = landscapes.gather_landscape(snakemake.input.tiles, out.table)
    run.record_output(out.table)
    found, grids = landscapes.landscape_topology(out.table, out.topology)
    run.log_metrics(metrics | found)
    figures.landscape_figure(out.table, snakemake.input.data, out.figure, grids)
    run.log_artifact(out.figure, "figures")
    pages.landscape_page(out.table, out.page, grids=grids)
    run.log_artifact(out.page, "figures")
