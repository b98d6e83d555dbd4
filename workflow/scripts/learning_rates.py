from sklandscape.pipeline.jobs import pipeline_job
from sklandscape.pipeline.stages import analyses as analysis_stages

out = snakemake.output
with pipeline_job(snakemake, "learning_rates") as run:
    run.link_to_producer(snakemake.input.weights)
    metrics = analysis_stages.learning_rates(
        snakemake.input.model, snakemake.input.weights, snakemake.input.data,
        snakemake.params.spec, snakemake.wildcards.analysis,
        tables={table: out[table] for table in ("rates", "curves", "limits")}, figure=out.png,
        n_jobs=snakemake.threads,
    )
    run.log_metrics(metrics)
    run.record_output(out.rates)
    run.log_artifact(out.png, "figures")
