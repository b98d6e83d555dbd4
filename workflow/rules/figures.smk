rule figure_dataset:
    input:
        data=f"{RESULTS}/data/{{dataset}}.parquet",
    output:
        f"{RESULTS}/figures/dataset_{{dataset}}.png",
    params:
        function=lambda wc: dataset_function(wc.dataset),
    log:
        f"{RESULTS}/logs/figures/dataset_{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/dataset_{{dataset}}.tsv"
    script:
        "../scripts/figure_dataset.py"


rule figure_network:
    input:
        weights=f"{RESULTS}/models/{{network}}/weights.parquet",
    output:
        f"{RESULTS}/figures/network_{{network}}.png",
    log:
        f"{RESULTS}/logs/figures/network_{{network}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/network_{{network}}.tsv"
    script:
        "../scripts/figure_network.py"


rule figure_fit:
    input:
        weights=f"{RESULTS}/models/{{network}}/weights.parquet",
        data=lambda wc: f"{RESULTS}/data/{network_dataset(wc.network)}.parquet",
    output:
        f"{RESULTS}/figures/fit_{{network}}.png",
    params:
        function=lambda wc: dataset_function(network_dataset(wc.network)),
    log:
        f"{RESULTS}/logs/figures/fit_{{network}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/fit_{{network}}.tsv"
    script:
        "../scripts/figure_fit.py"


rule figure_landscape:
    input:
        landscape=f"{RESULTS}/landscapes/{{landscape}}.parquet",
        data=lambda wc: landscape_inputs(wc)["data"],
    output:
        f"{RESULTS}/figures/landscape_{{landscape}}.png",
    wildcard_constraints:
        landscape=_choice(landscapes_of_kind(*GRID_KINDS)),
    log:
        f"{RESULTS}/logs/figures/landscape_{{landscape}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/landscape_{{landscape}}.tsv"
    script:
        "../scripts/figure_landscape.py"
