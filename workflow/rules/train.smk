rule train:
    input:
        data=lambda wc: f"{RESULTS}/data/{network_dataset(wc.network)}.parquet",
    output:
        model=f"{RESULTS}/models/{{network}}/model.skops",
        weights=f"{RESULTS}/models/{{network}}/weights.parquet",
        # the same fit, recorded: where it started and every iterate (losscape.trajectory)
        initial_weights=f"{RESULTS}/models/{{network}}/initial_weights.parquet",
        trajectory=f"{RESULTS}/models/{{network}}/trajectory.parquet",
    params:
        settings=lambda wc: training_settings(wc.network),
        dataset=lambda wc: network_dataset(wc.network),
    log:
        f"{RESULTS}/logs/train/{{network}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{network}}.tsv"
    conda:
        "../envs/losscape.yaml"
    script:
        "../scripts/train.py"
