from sklandscape.pipeline.jobs import pipeline_job
from sklandscape.pipeline.stages import analyses as analysis_stages

out = snakemake.output
with pipeline_job(snakemake, "input_attack") as run:
    run.link_to_producer(snakemake.input.landscape)
    metrics, tags = analysis_stages.input_attack(
        snakemake.input.weights, snakemake.input.data, snakemake.input.landscape,
        snakemake.params.spec, snakemake.params.target_function, snakemake.wildcards.analysis,
        worst=out.worst, ascent=out.ascent, paths=out.paths, field=out.field, png=out.png,
    )
    run.log_metrics(metrics)
    run.set_tags(tags)
    run.record_output(out.worst)
    run.log_artifact(out.png, "figures")
