rule data:
    input:
        unpack(dataset_source),
    output:
        f"{RESULTS}/data/{{dataset}}.parquet",
    params:
        spec=lambda wc: dataset_spec(wc.dataset),
        # A user's file reruns this (and all after it) when its content changes.
        source_sha256=lambda wc: dataset_source_sha256(wc.dataset),
    log:
        f"{RESULTS}/logs/data/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/data/{{dataset}}.tsv"
    conda:
        "../envs/losscape.yaml"
    script:
        "../scripts/data.py"
