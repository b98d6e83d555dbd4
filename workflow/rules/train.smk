# Training also draws the network (weights on its edges) and its fit: every job pays
# seconds of interpreter, imports and MLflow run before its work, drawing takes one.
rule train:
    input:
        data=lambda wc: f"{RESULTS}/data/{network_dataset(wc.network)}.parquet",
    output:
        model=f"{RESULTS}/models/{{network}}/model.skops",
        weights=f"{RESULTS}/models/{{network}}/weights.parquet",
        # the same fit, recorded: where it started and every iterate (sklandscape.model.trajectory)
        initial_weights=f"{RESULTS}/models/{{network}}/initial_weights.parquet",
        trajectory=f"{RESULTS}/models/{{network}}/trajectory.parquet",
        network_png=report(
            f"{RESULTS}/figures/network_{{network}}.png",
            caption="../report/network.rst",
            category="2. Networks",
            subcategory="{network}",
            labels={"figure": "{network}: trained weights"},
        ),
        fit_png=report(
            f"{RESULTS}/figures/fit_{{network}}.png",
            caption="../report/fit.rst",
            category="2. Networks",
            subcategory="{network}",
            labels={"figure": "{network}: fit to its data"},
        ),
    params:
        code=code_hash("train.py"),
        settings=lambda wc: training_settings(wc.network),
        dataset=lambda wc: network_dataset(wc.network),
        function=lambda wc: dataset_function(network_dataset(wc.network)),
    log:
        f"{RESULTS}/logs/train/{{network}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{network}}.tsv"
    conda:
        "../envs/sklandscape.yaml"
    script:
        "../scripts/train.py"
