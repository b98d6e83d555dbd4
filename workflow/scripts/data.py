from sklandscape.pipeline.jobs import pipeline_job
from sklandscape.pipeline.stages import data as data_stage
from sklandscape.pipeline.stages import figures

spec = snakemake.params.spec
with pipeline_job(snakemake, "data") as run:
    if "source" in snakemake.input.keys():
        metrics = data_stage.import_dataset(
            snakemake.input.source, spec, snakemake.params.source_sha256, snakemake.output.data
        )
        run.set_tags({"source_sha256": snakemake.params.source_sha256})
    elif "sklearn" in spec:
        metrics = data_stage.bundled_dataset(spec, snakemake.output.data)
    else:
        metrics = data_stage.make_dataset(spec, snakemake.output.data)
    run.log_metrics(metrics)
    run.record_output(snakemake.output.data)
    figures.dataset_figure(snakemake.output.data, spec.get("function"), snakemake.output.figure)
    run.log_artifact(snakemake.output.figure, "figures")
