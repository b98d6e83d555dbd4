# Analyses of a landscape (issue 4 §3-5): curvature, optimizers on a weights slice, and an
# attack on the input space. Each analysis names the landscape it works on; its slice (or
# input window) comes from that landscape's table, an input file, so editing the landscape
# reruns the analysis too. The config was checked at parse time (sklandscape.pipeline.config.validation).
#
# Each job draws its own figures: a job of its own would pay another interpreter, MLflow
# store and run (seconds) for under a second of drawing.


rule curvature:
    input:
        unpack(analysis_inputs),
    output:
        hessian=f"{ANALYSIS_DIR}/hessian.parquet",
        hessian_matrix=f"{ANALYSIS_DIR}/hessian_matrix.parquet",
        spectrum=f"{ANALYSIS_DIR}/spectrum.parquet",
        eigen_cuts=f"{ANALYSIS_DIR}/eigen_cuts.parquet",
        curvature_map=f"{ANALYSIS_DIR}/curvature_map.parquet",
        hessian_png=analysis_report("hessian", "Hessian at the trained weights"),
        spectrum_png=analysis_report("spectrum", "eigenvalue density"),
        cuts_png=analysis_report("cuts", "cuts along the top eigenvectors"),
        convexity_png=analysis_report("convexity", "convexity map"),
        plateau_png=analysis_report("plateau", "plateau map"),
    params:
        code=code_hash("curvature.py"),
        spec=lambda wc: analysis_spec(wc.analysis),
    wildcard_constraints:
        analysis=_choice(analyses_of("curvature")),
    log:
        f"{RESULTS}/logs/analysis/{{analysis}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/{{analysis}}.tsv"
    conda:
        "../envs/sklandscape.yaml"
    script:
        "../scripts/curvature.py"


rule optimizers:
    input:
        unpack(analysis_inputs),
    output:
        runs=f"{ANALYSIS_DIR}/optimizer_runs.parquet",
        paths=f"{ANALYSIS_DIR}/optimizer_paths.parquet",
        png=analysis_report("optimizers", "optimizer paths"),
        page=analysis_report("optimizers", "optimizer paths, interactive 3-D", "html"),
        gif=f"{RESULTS}/figures/optimizers_{{analysis}}.gif",
    params:
        code=code_hash("optimizers.py"),
        spec=lambda wc: analysis_spec(wc.analysis),
    wildcard_constraints:
        analysis=_choice(optimizer_analyses(animated=True)),
    log:
        f"{RESULTS}/logs/analysis/{{analysis}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/{{analysis}}.tsv"
    conda:
        "../envs/sklandscape.yaml"
    script:
        "../scripts/optimizers.py"


# The same without the GIF (config `animation: false`).
use rule optimizers as optimizers_without_animation with:
    output:
        runs=f"{ANALYSIS_DIR}/optimizer_runs.parquet",
        paths=f"{ANALYSIS_DIR}/optimizer_paths.parquet",
        png=analysis_report("optimizers", "optimizer paths"),
        page=analysis_report("optimizers", "optimizer paths, interactive 3-D", "html"),
    wildcard_constraints:
        analysis=_choice(optimizer_analyses(animated=False)),


rule input_attack:
    input:
        unpack(analysis_inputs),
    output:
        worst=f"{ANALYSIS_DIR}/worst_inputs.parquet",
        ascent=f"{ANALYSIS_DIR}/ascent.parquet",
        paths=f"{ANALYSIS_DIR}/ascent_paths.parquet",
        field=f"{ANALYSIS_DIR}/gradient_field.parquet",
        png=analysis_report("attack", "input-space attack"),
    params:
        code=code_hash("input_attack.py"),
        spec=lambda wc: analysis_spec(wc.analysis),
        target_function=attack_target_function,
    wildcard_constraints:
        analysis=_choice(analyses_of("input_attack")),
    log:
        f"{RESULTS}/logs/analysis/{{analysis}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/{{analysis}}.tsv"
    conda:
        "../envs/sklandscape.yaml"
    script:
        "../scripts/input_attack.py"


rule learning_rates:
    input:
        unpack(analysis_inputs),
    output:
        rates=f"{ANALYSIS_DIR}/rates.parquet",
        curves=f"{ANALYSIS_DIR}/curves.parquet",
        limits=f"{ANALYSIS_DIR}/limits.parquet",
        png=analysis_report("learning_rates", "stable learning rates, predicted and measured"),
    params:
        code=code_hash("learning_rates.py"),
        spec=lambda wc: analysis_spec(wc.analysis),
    wildcard_constraints:
        analysis=_choice(analyses_of("learning_rates")),
    log:
        f"{RESULTS}/logs/analysis/{{analysis}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/{{analysis}}.tsv"
    conda:
        "../envs/sklandscape.yaml"
    script:
        "../scripts/learning_rates.py"


# Mode connectivity between a network's seeds: every pair's paths before and after aligning
# the hidden units, a trained curve, their barriers, and the plane through each pair's curve.
rule connectivity:
    input:
        unpack(analysis_inputs),
    output:
        pairs=f"{ANALYSIS_DIR}/pairs.parquet",
        paths=f"{ANALYSIS_DIR}/paths.parquet",
        plane=f"{ANALYSIS_DIR}/plane.parquet",
        landmarks=f"{ANALYSIS_DIR}/landmarks.parquet",
        alignment=f"{ANALYSIS_DIR}/alignment.parquet",
        controls=f"{ANALYSIS_DIR}/controls.parquet",
        barriers_png=analysis_report(
            "connectivity_barriers", "barriers between seeds, before and after alignment"
        ),
        plane_png=analysis_report("connectivity_plane", "the plane through each pair's curve"),
        page=analysis_report(
            "connectivity_plane", "the first pair's plane, interactive 3-D", "html"
        ),
        # one figure per pair, named {first}__{second}.png
        paths_png=report(
            directory(f"{RESULTS}/figures/connectivity_paths_{{analysis}}"),
            patterns=["{pair}.png"],
            caption="../report/connectivity_paths.rst",
            category="4. Analyses",
            subcategory="{analysis}",
            labels={"figure": "{analysis}: loss along the paths, {pair}"},
        ),
    params:
        code=code_hash("connectivity.py"),
        spec=lambda wc: analysis_spec(wc.analysis),
        members=lambda wc: seed_members(ANALYSES[wc.analysis]["network"]),
    wildcard_constraints:
        analysis=_choice(analyses_of("connectivity")),
    log:
        f"{RESULTS}/logs/analysis/{{analysis}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/{{analysis}}.tsv"
    conda:
        "../envs/sklandscape.yaml"
    script:
        "../scripts/connectivity.py"
