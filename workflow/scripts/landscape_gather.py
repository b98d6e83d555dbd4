from losscape.pipeline import figure_stages as figures
from losscape.pipeline import stages
from losscape.pipeline.jobs import pipeline_job

with pipeline_job(snakemake, "landscape") as run:
    # Like a one-job landscape, nested under the training run; its tiles' runs are tagged.
    run.link_to_producer(snakemake.input.weights)
    run.set_tags({"tile_runs": " ".join(str(run.producer_of(p)) for p in snakemake.input.tiles)})
    out = snakemake.output
    run.log_metrics(stages.gather_landscape(snakemake.input.tiles, out.table))
    run.record_output(out.table)
    figures.landscape_figure(out.table, snakemake.input.data, out.figure)
    run.log_artifact(out.figure, "figures")
