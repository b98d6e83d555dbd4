from losscape.pipeline.job_handover import hand_over

hand_over()  # the preloaded job server runs the rest, where one runs

from losscape.pipeline import analysis_stages
from losscape.pipeline.jobs import pipeline_job

out = snakemake.output
with pipeline_job(snakemake, "input_attack") as run:
    run.link_to_producer(snakemake.input.landscape)
    metrics, tags = analysis_stages.input_attack(
        snakemake.input.weights, snakemake.input.data, snakemake.input.landscape,
        snakemake.params.spec, snakemake.params.target_function, out.worst, out.ascent,
        out.paths, out.field, out.png, snakemake.wildcards.analysis,
    )
    run.log_metrics(metrics)
    run.set_tags(tags)
    run.record_output(out.worst)
    run.log_artifact(out.png, "figures")
