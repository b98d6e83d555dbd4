from losscape import io
from losscape.data.datasets import split_xy
from losscape.pipeline import figure_stages as figures
from losscape.pipeline import stages
from losscape.pipeline.jobs import pipeline_job

with pipeline_job(snakemake, "train") as run:
    run.link_to_producer(snakemake.input.data, nest=False)
    result = stages.train(
        snakemake.input.data, snakemake.params.settings, snakemake.output.model, snakemake.output.weights,
        snakemake.output.initial_weights, snakemake.output.trajectory,
    )
    run.log_metrics(result.metrics())
    run.set_tags({"converged": result.converged, "convergence_warning": " | ".join(result.warnings)})
    if result.saturation:
        run.set_tags({"saturation": result.saturation})
    frame, _ = io.read_table(snakemake.input.data)
    run.log_dataset(frame, source=snakemake.input.data, name=snakemake.params.dataset)
    run.log_sklearn_model(result.model, split_xy(frame)[0])
    run.log_artifact(snakemake.output.weights)
    run.log_artifact(snakemake.output.initial_weights)
    run.log_artifact(snakemake.output.trajectory)
    run.record_output(snakemake.output.weights)
    out = snakemake.output
    figures.network_figure(out.weights, out.network_png)
    figures.fit_figure(out.weights, snakemake.input.data, snakemake.params.function, out.fit_png)
    run.log_artifact(out.network_png, "figures")
    run.log_artifact(out.fit_png, "figures")
