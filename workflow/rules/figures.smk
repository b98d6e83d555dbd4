rule figure_dataset:
    input:
        data=f"{RESULTS}/data/{{dataset}}.parquet",
    output:
        report(
            f"{RESULTS}/figures/dataset_{{dataset}}.png",
            caption="../report/dataset.rst",
            category="Data",
            labels={"figure": "{dataset}"},
        ),
    params:
        function=lambda wc: dataset_function(wc.dataset),
    log:
        f"{RESULTS}/logs/figures/dataset_{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/dataset_{{dataset}}.tsv"
    conda:
        "../envs/losscape.yaml"
    script:
        "../scripts/figure_dataset.py"


rule figure_network:
    input:
        weights=f"{RESULTS}/models/{{network}}/weights.parquet",
    output:
        report(
            f"{RESULTS}/figures/network_{{network}}.png",
            caption="../report/network.rst",
            category="Networks",
            subcategory="{network}",
            labels={"figure": "{network}: trained weights"},
        ),
    log:
        f"{RESULTS}/logs/figures/network_{{network}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/network_{{network}}.tsv"
    conda:
        "../envs/losscape.yaml"
    script:
        "../scripts/figure_network.py"


rule figure_fit:
    input:
        weights=f"{RESULTS}/models/{{network}}/weights.parquet",
        data=lambda wc: f"{RESULTS}/data/{network_dataset(wc.network)}.parquet",
    output:
        report(
            f"{RESULTS}/figures/fit_{{network}}.png",
            caption="../report/fit.rst",
            category="Networks",
            subcategory="{network}",
            labels={"figure": "{network}: fit to its data"},
        ),
    params:
        function=lambda wc: dataset_function(network_dataset(wc.network)),
    log:
        f"{RESULTS}/logs/figures/fit_{{network}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/fit_{{network}}.tsv"
    conda:
        "../envs/losscape.yaml"
    script:
        "../scripts/figure_fit.py"


rule figure_landscape:
    input:
        landscape=f"{RESULTS}/landscapes/{{landscape}}.parquet",
        data=lambda wc: landscape_inputs(wc)["data"],
    output:
        report(
            f"{RESULTS}/figures/landscape_{{landscape}}.png",
            caption="../report/landscape.rst",
            category="Loss landscapes",
            subcategory=lambda wc: landscape_network(wc.landscape),
            labels=lambda wc: landscape_report_labels(wc.landscape),
        ),
    wildcard_constraints:
        landscape=_choice(landscapes_of_kind(*GRID_KINDS)),
    log:
        f"{RESULTS}/logs/figures/landscape_{{landscape}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/landscape_{{landscape}}.tsv"
    conda:
        "../envs/losscape.yaml"
    script:
        "../scripts/figure_landscape.py"
