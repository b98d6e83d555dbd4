from losscape import stages
from losscape.jobs import pipeline_job

with pipeline_job(snakemake, "data") as run:
    if "source" in snakemake.input.keys():
        metrics = stages.import_dataset(
            snakemake.input.source, snakemake.params.spec, snakemake.params.source_sha256,
            snakemake.output[0],
        )
        run.set_tags({"source_sha256": snakemake.params.source_sha256})
    else:
        metrics = stages.make_dataset(snakemake.params.spec, snakemake.output[0])
    run.log_metrics(metrics)
    run.record_output(snakemake.output[0])
