from losscape import stages
from losscape.jobs import pipeline_job

with pipeline_job(snakemake, "data") as run:
    run.log_metrics(stages.make_dataset(snakemake.params.spec, snakemake.output[0]))
    run.record_output(snakemake.output[0])
