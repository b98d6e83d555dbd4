rule landscape:
    input:
        unpack(landscape_inputs),
    output:
        f"{RESULTS}/landscapes/{{landscape}}.parquet",
    wildcard_constraints:
        landscape=_choice(landscapes_of_kind(*GRID_KINDS)),
    params:
        spec=lambda wc: landscape_spec(wc.landscape),
        target_function=landscape_target_function,
        config_hash=lambda wc: landscape_config_hash(wc.landscape),
    log:
        f"{RESULTS}/logs/landscape/{{landscape}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/landscape/{{landscape}}.tsv"
    conda:
        "../envs/losscape.yaml"
    script:
        "../scripts/landscape.py"
