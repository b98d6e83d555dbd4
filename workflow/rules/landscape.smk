def landscape_inputs(wc):
    network = landscape_network(wc.landscape)
    return {
        "weights": f"{RESULTS}/models/{network}/weights.parquet",
        "data": f"{RESULTS}/data/{network_dataset(network)}.parquet",
    }


def landscape_target_function(wc):
    """The generating function an input landscape compares against.

    None for a weights landscape, and for a user's data (its nearest data point is the target).
    """
    if landscape_kind(wc.landscape) != "input":
        return None
    return dataset_function(network_dataset(landscape_network(wc.landscape)))


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
    script:
        "../scripts/landscape.py"
