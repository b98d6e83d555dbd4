# A landscape with `tiles: 1` (the default) is one job, which also draws its figure ...
rule landscape:
    input:
        unpack(landscape_inputs),
    output:
        table=f"{RESULTS}/landscapes/{{landscape}}.parquet",
        topology=f"{RESULTS}/landscapes/{{landscape}}.topology.parquet",
        figure=landscape_report("png"),
        page=landscape_report("html"),
    wildcard_constraints:
        landscape=_choice(UNTILED),
    params:
        code=code_hash("landscape.py"),
        spec=lambda wc: landscape_spec(wc.landscape),
        target_function=landscape_target_function,
        config_hash=lambda wc: landscape_config_hash(wc.landscape),
    log:
        f"{RESULTS}/logs/landscape/{{landscape}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/landscape/{{landscape}}.tsv"
    conda:
        "../envs/sklandscape.yaml"
    script:
        "../scripts/landscape.py"


# ... with `tiles: k`, k jobs that each compute a band of the grid's rows ...
rule landscape_tile:
    input:
        unpack(landscape_inputs),
    output:
        temp(f"{RESULTS}/landscapes/tiles/{{landscape}}/{{tile}}.parquet"),
    wildcard_constraints:
        landscape=_choice(TILED),
        tile=r"\d+",
    params:
        code=code_hash("landscape.py"),
        spec=lambda wc: landscape_spec(wc.landscape),
        target_function=landscape_target_function,
        config_hash=lambda wc: landscape_config_hash(wc.landscape),
        tile=lambda wc: [int(wc.tile), landscape_tiles(wc.landscape)],
    log:
        f"{RESULTS}/logs/landscape/{{landscape}}.tile{{tile}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/landscape/{{landscape}}.tile{{tile}}.tsv"
    conda:
        "../envs/sklandscape.yaml"
    script:
        "../scripts/landscape.py"


# ... and one job that joins them into the table the single job would have written, and
# draws the figure.
rule landscape_gather:
    input:
        tiles=landscape_tile_paths,
        weights=lambda wc: landscape_inputs(wc)["weights"],  # to link its MLflow run
        data=lambda wc: landscape_inputs(wc)["data"],  # drawn on the figure
    output:
        table=f"{RESULTS}/landscapes/{{landscape}}.parquet",
        topology=f"{RESULTS}/landscapes/{{landscape}}.topology.parquet",
        figure=landscape_report("png"),
        page=landscape_report("html"),
    wildcard_constraints:
        landscape=_choice(TILED),
    params:
        # the tiles' code (the gather imports the same stages): the gathered table is then
        # the one-job table byte for byte, provenance included
        code=code_hash("landscape.py"),
    log:
        f"{RESULTS}/logs/landscape/{{landscape}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/landscape/{{landscape}}.tsv"
    conda:
        "../envs/sklandscape.yaml"
    script:
        "../scripts/landscape_gather.py"
