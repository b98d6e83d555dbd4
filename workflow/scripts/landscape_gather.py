from losscape.pipeline.job_handover import hand_over

hand_over()  # the preloaded job server runs the rest, where one runs

from losscape.pipeline import figure_stages as figures
from losscape.pipeline import page_stages as pages
from losscape.pipeline import stages
from losscape.pipeline.jobs import pipeline_job

# Named like a one-job landscape's run, linked to the training run; its tiles' runs are
# moved under it, so the landscape is one entry in MLflow's run list.
with pipeline_job(snakemake, "landscape", run_prefix="landscape") as run:
    run.link_to_producer(snakemake.input.weights)
    run.adopt(snakemake.input.tiles)
    out = snakemake.output
    run.log_metrics(stages.gather_landscape(snakemake.input.tiles, out.table))
    run.record_output(out.table)
    figures.landscape_figure(out.table, snakemake.input.data, out.figure)
    run.log_artifact(out.figure, "figures")
    pages.landscape_page(out.table, out.page)
    run.log_artifact(out.page, "figures")
