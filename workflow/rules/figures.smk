# A network's two pictures, its weights and its fit, in one job: each job pays an
# interpreter, the MLflow store and a run before it draws anything.
rule figure_network:
    input:
        weights=f"{RESULTS}/models/{{network}}/weights.parquet",
        data=lambda wc: f"{RESULTS}/data/{network_dataset(wc.network)}.parquet",
    output:
        network=report(
            f"{RESULTS}/figures/network_{{network}}.png",
            caption="../report/network.rst",
            category="Networks",
            subcategory="{network}",
            labels={"figure": "{network}: trained weights"},
        ),
        fit=report(
            f"{RESULTS}/figures/fit_{{network}}.png",
            caption="../report/fit.rst",
            category="Networks",
            subcategory="{network}",
            labels={"figure": "{network}: fit to its data"},
        ),
    params:
        function=lambda wc: dataset_function(network_dataset(wc.network)),
    log:
        f"{RESULTS}/logs/figures/network_{{network}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/network_{{network}}.tsv"
    conda:
        "../envs/losscape.yaml"
    script:
        "../scripts/figure_network.py"


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
