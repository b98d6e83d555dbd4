# Landscapes along chosen directions: every pair of weights, random filter-normalised planes,
# the initial-to-trained line and the PCA plane of the training path. Each job computes its
# tables and draws its figures in one MLflow run (a second job per figure would double the
# fixed cost of a job, which is most of the time here).


rule weight_pairs:
    input:
        weights=network_file("weights.parquet"),
        data=landscape_data,
    output:
        table=f"{RESULTS}/landscapes/{{landscape}}.parquet",
        topology=f"{RESULTS}/landscapes/{{landscape}}.topology.parquet",
        stats=f"{RESULTS}/landscapes/{{landscape}}.stats.parquet",
        csv=f"{RESULTS}/tables/{{landscape}}.csv",
        html=f"{RESULTS}/tables/{{landscape}}.html",
        figure=landscape_report("png"),
    wildcard_constraints:
        landscape=_choice(landscapes_of_kind("weight_pairs")),
    params:
        code=code_hash("weight_pairs.py"),
        spec=lambda wc: landscape_spec(wc.landscape),
        config_hash=lambda wc: landscape_config_hash(wc.landscape),
    log:
        f"{RESULTS}/logs/landscape/{{landscape}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/landscape/{{landscape}}.tsv"
    conda:
        "../envs/sklandscape.yaml"
    script:
        "../scripts/weight_pairs.py"


rule random_plane:
    input:
        weights=network_file("weights.parquet"),
        data=landscape_data,
    output:
        table=f"{RESULTS}/landscapes/{{landscape}}.parquet",
        topology=f"{RESULTS}/landscapes/{{landscape}}.topology.parquet",
        directions=f"{RESULTS}/landscapes/{{landscape}}.directions.parquet",
        stats=f"{RESULTS}/landscapes/{{landscape}}.stats.parquet",
        csv=f"{RESULTS}/tables/{{landscape}}.csv",
        figure=landscape_report("png"),
        spread_figure=report(
            f"{RESULTS}/figures/seed_spread_{{landscape}}.png",
            caption="../report/seed_spread.rst",
            category="3. Loss landscapes",
            subcategory=lambda wc: landscape_network(wc.landscape),
            labels=lambda wc: {"figure": f"{wc.landscape}: one plane per seed"},
        ),
        page=landscape_report("html"),
    wildcard_constraints:
        landscape=_choice(landscapes_of_kind("random_plane")),
    params:
        code=code_hash("random_plane.py"),
        spec=lambda wc: landscape_spec(wc.landscape),
        config_hash=lambda wc: landscape_config_hash(wc.landscape),
    log:
        f"{RESULTS}/logs/landscape/{{landscape}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/landscape/{{landscape}}.tsv"
    conda:
        "../envs/sklandscape.yaml"
    script:
        "../scripts/random_plane.py"


rule hessian_plane:
    input:
        weights=network_file("weights.parquet"),
        data=landscape_data,
    output:
        table=f"{RESULTS}/landscapes/{{landscape}}.parquet",
        topology=f"{RESULTS}/landscapes/{{landscape}}.topology.parquet",
        directions=f"{RESULTS}/landscapes/{{landscape}}.directions.parquet",
        figure=landscape_report("png"),
        page=landscape_report("html"),
    wildcard_constraints:
        landscape=_choice(landscapes_of_kind("hessian_plane")),
    params:
        code=code_hash("hessian_plane.py"),
        spec=lambda wc: landscape_spec(wc.landscape),
        config_hash=lambda wc: landscape_config_hash(wc.landscape),
    log:
        f"{RESULTS}/logs/landscape/{{landscape}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/landscape/{{landscape}}.tsv"
    conda:
        "../envs/sklandscape.yaml"
    script:
        "../scripts/hessian_plane.py"


rule interpolation:
    input:
        initial_weights=network_file("initial_weights.parquet"),
        weights=network_file("weights.parquet"),
        data=landscape_data,
    output:
        table=f"{RESULTS}/landscapes/{{landscape}}.parquet",
        figure=landscape_report("png"),
    wildcard_constraints:
        landscape=_choice(landscapes_of_kind("interpolation")),
    params:
        code=code_hash("interpolation.py"),
        spec=lambda wc: landscape_spec(wc.landscape),
        config_hash=lambda wc: landscape_config_hash(wc.landscape),
    log:
        f"{RESULTS}/logs/landscape/{{landscape}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/landscape/{{landscape}}.tsv"
    conda:
        "../envs/sklandscape.yaml"
    script:
        "../scripts/interpolation.py"


rule trajectory_pca:
    input:
        trajectory=network_file("trajectory.parquet"),
        weights=network_file("weights.parquet"),
        data=landscape_data,
    output:
        table=f"{RESULTS}/landscapes/{{landscape}}.parquet",
        topology=f"{RESULTS}/landscapes/{{landscape}}.topology.parquet",
        path=f"{RESULTS}/landscapes/{{landscape}}.path.parquet",
        figure=landscape_report("png"),
        page=landscape_report("html"),
    wildcard_constraints:
        landscape=_choice(landscapes_of_kind("trajectory_pca")),
    params:
        code=code_hash("trajectory_pca.py"),
        spec=lambda wc: landscape_spec(wc.landscape),
        config_hash=lambda wc: landscape_config_hash(wc.landscape),
    log:
        f"{RESULTS}/logs/landscape/{{landscape}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/landscape/{{landscape}}.tsv"
    conda:
        "../envs/sklandscape.yaml"
    script:
        "../scripts/trajectory_pca.py"
