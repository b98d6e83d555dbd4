# Rules landscape (the table and its figure) and landscape_tile (one band of the table).
from sklandscape.pipeline.jobs import pipeline_job
from sklandscape.pipeline.stages import figures, landscapes, pages

spec = snakemake.params.spec
tile = tuple(snakemake.params.tile) if "tile" in snakemake.params.keys() else None
with pipeline_job(snakemake, "landscape") as run:
    run.link_to_producer(snakemake.input.weights)
    if spec["kind"] == "input_space":
        metrics = landscapes.input_space_landscape(
            snakemake.input.weights, snakemake.input.data, snakemake.output[0], spec,
            snakemake.params.target_function, snakemake.params.config_hash, tile,
            n_jobs=snakemake.threads,
        )
    else:
        metrics = landscapes.weights_landscape(
            snakemake.input.weights, snakemake.input.data, snakemake.output[0], spec,
            snakemake.params.config_hash, tile, n_jobs=snakemake.threads,
        )
    run.record_output(snakemake.output[0])
    grids = None
    if "topology" in snakemake.output.keys():  # a whole landscape, not a tile
        found, grids = landscapes.landscape_topology(snakemake.output[0], snakemake.output.topology)
        metrics |= found
    run.log_metrics(metrics)
    if "figure" in snakemake.output.keys():
        figures.landscape_figure(snakemake.output[0], snakemake.input.data, snakemake.output.figure,
                                 grids)
        run.log_artifact(snakemake.output.figure, "figures")
        pages.landscape_page(snakemake.output[0], snakemake.output.page, grids=grids)
        run.log_artifact(snakemake.output.page, "figures")
