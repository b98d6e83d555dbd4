from sklandscape.api.connectivity import TABLES
from sklandscape.pipeline.jobs import pipeline_job
from sklandscape.pipeline.stages import analyses as analysis_stages

out = snakemake.output
with pipeline_job(snakemake, "connectivity") as run:
    for weights in snakemake.input.weights:
        run.link_to_producer(weights)
    figures = {"barriers": out.barriers_png, "plane": out.plane_png}
    metrics = analysis_stages.connectivity(
        list(snakemake.input.weights), snakemake.input.data, list(snakemake.params.members),
        snakemake.params.spec, snakemake.wildcards.analysis,
        tables={table: out[table] for table in ("pairs", *TABLES)}, figures=figures,
        paths_folder=out.paths_png, page=out.page, n_jobs=snakemake.threads,
    )
    run.log_metrics(metrics)
    run.record_output(out.pairs)
    for figure in figures.values():
        run.log_artifact(figure, "figures")
    run.log_artifact(out.page, "figures")
