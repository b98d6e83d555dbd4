# One job per dataset: the table, and its picture (a job of its own would cost another
# interpreter, MLflow store and run for a second's drawing).
rule data:
    input:
        unpack(dataset_source),
    output:
        data=f"{RESULTS}/data/{{dataset}}.parquet",
        figure=report(
            f"{RESULTS}/figures/dataset_{{dataset}}.png",
            caption="../report/dataset.rst",
            category="1. Data",
            labels={"figure": "{dataset}"},
        ),
    params:
        code=code_hash("data.py"),
        spec=lambda wc: dataset_spec(wc.dataset),
        # A user's file reruns this (and all after it) when its content changes.
        source_sha256=lambda wc: dataset_source_sha256(wc.dataset),
    log:
        f"{RESULTS}/logs/data/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/data/{{dataset}}.tsv"
    conda:
        "../envs/sklandscape.yaml"
    script:
        "../scripts/data.py"
