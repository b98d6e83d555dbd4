rule data:
    output:
        f"{RESULTS}/data/{{dataset}}.parquet",
    params:
        spec=lambda wc: dataset_spec(wc.dataset),
    log:
        f"{RESULTS}/logs/data/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/data/{{dataset}}.tsv"
    script:
        "../scripts/data.py"
