from losscape.pipeline.job_handover import hand_over

hand_over()  # the preloaded job server runs the rest, where one runs

from losscape.pipeline import figure_stages as figures
from losscape.pipeline import stages
from losscape.pipeline.jobs import pipeline_job

spec = snakemake.params.spec
with pipeline_job(snakemake, "data") as run:
    if "source" in snakemake.input.keys():
        metrics = stages.import_dataset(
            snakemake.input.source, spec, snakemake.params.source_sha256, snakemake.output.data
        )
        run.set_tags({"source_sha256": snakemake.params.source_sha256})
    elif "sklearn" in spec:
        metrics = stages.bundled_dataset(spec, snakemake.output.data)
    else:
        metrics = stages.make_dataset(spec, snakemake.output.data)
    run.log_metrics(metrics)
    run.record_output(snakemake.output.data)
    figures.dataset_figure(snakemake.output.data, spec.get("function"), snakemake.output.figure)
    run.log_artifact(snakemake.output.figure, "figures")
