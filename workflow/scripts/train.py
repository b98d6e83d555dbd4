from sklandscape.model.training import solver_settings
from sklandscape.pipeline.jobs import pipeline_job
from sklandscape.pipeline.stages import figures, training

# The run shows the settings its solver reads (an lbfgs run has no learning rate).
shown = {k: v for k, v in snakemake.params.items() if v is not None}
shown["settings"] = solver_settings(snakemake.params.settings)
with pipeline_job(snakemake, "train", params=shown) as run:
    run.link_to_producer(snakemake.input.data)
    out = snakemake.output
    result = training.train(
        snakemake.input.data, snakemake.params.settings, model=out.model, weights=out.weights,
        initial_weights=out.initial_weights, trajectory=out.trajectory,
    )
    run.log_metrics(result.metrics())
    # `converged` is a metric; the warning's text only where there is one.
    if result.warnings:
        run.set_tags({"convergence_warning": " | ".join(result.warnings)})
    if result.saturation:
        run.set_tags({"saturation": result.saturation})
    run.log_sklearn_model(snakemake.output.model, snakemake.input.data, name=snakemake.wildcards.network)
    run.log_artifact(snakemake.output.weights)
    run.log_artifact(snakemake.output.initial_weights)
    run.log_artifact(snakemake.output.trajectory)
    run.record_output(out.weights)
    figures.network_figure(out.weights, out.network_png)
    figures.fit_figure(out.weights, snakemake.input.data, snakemake.params.function, out.fit_png)
    run.log_artifact(out.network_png, "figures")
    run.log_artifact(out.fit_png, "figures")
