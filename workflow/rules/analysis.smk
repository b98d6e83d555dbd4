# Analyses of a landscape (issue 4 §3-5): curvature, optimizers on a weights slice, and an
# attack on the input space. Each analysis names the landscape it works on; its slice (or
# input window) comes from that landscape's table, an input file, so editing the landscape
# reruns the analysis too. The config was checked at parse time (losscape.validation).


rule curvature:
    input:
        unpack(analysis_inputs),
    output:
        hessian=f"{ANALYSIS_DIR}/hessian.parquet",
        curvature_map=f"{ANALYSIS_DIR}/curvature_map.parquet",
    params:
        spec=lambda wc: analysis_spec(wc.analysis),
    wildcard_constraints:
        analysis=_choice(analyses_of("curvature")),
    log:
        f"{RESULTS}/logs/analysis/{{analysis}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/{{analysis}}.tsv"
    conda:
        "../envs/losscape.yaml"
    script:
        "../scripts/curvature.py"


rule optimizers:
    input:
        unpack(analysis_inputs),
    output:
        runs=f"{ANALYSIS_DIR}/optimizer_runs.parquet",
        paths=f"{ANALYSIS_DIR}/optimizer_paths.parquet",
    params:
        spec=lambda wc: analysis_spec(wc.analysis),
    wildcard_constraints:
        analysis=_choice(analyses_of("optimizers")),
    log:
        f"{RESULTS}/logs/analysis/{{analysis}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/{{analysis}}.tsv"
    conda:
        "../envs/losscape.yaml"
    script:
        "../scripts/optimizers.py"


rule input_attack:
    input:
        unpack(analysis_inputs),
    output:
        worst=f"{ANALYSIS_DIR}/worst_inputs.parquet",
        ascent=f"{ANALYSIS_DIR}/ascent.parquet",
        paths=f"{ANALYSIS_DIR}/ascent_paths.parquet",
        field=f"{ANALYSIS_DIR}/gradient_field.parquet",
    params:
        spec=lambda wc: analysis_spec(wc.analysis),
        target_function=attack_target_function,
    wildcard_constraints:
        analysis=_choice(analyses_of("input_attack")),
    log:
        f"{RESULTS}/logs/analysis/{{analysis}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/{{analysis}}.tsv"
    conda:
        "../envs/losscape.yaml"
    script:
        "../scripts/input_attack.py"


rule figure_curvature:
    input:
        hessian=rules.curvature.output.hessian,
        curvature_map=rules.curvature.output.curvature_map,
    output:
        hessian=report(
            f"{RESULTS}/figures/hessian_{{analysis}}.png",
            caption="../report/hessian.rst",
            category="Analyses",
            subcategory="{analysis}",
            labels={"figure": "{analysis}: Hessian at the trained weights"},
        ),
        convexity=report(
            f"{RESULTS}/figures/convexity_{{analysis}}.png",
            caption="../report/convexity.rst",
            category="Analyses",
            subcategory="{analysis}",
            labels={"figure": "{analysis}: convexity map"},
        ),
        plateau=report(
            f"{RESULTS}/figures/plateau_{{analysis}}.png",
            caption="../report/plateau.rst",
            category="Analyses",
            subcategory="{analysis}",
            labels={"figure": "{analysis}: plateau map"},
        ),
    wildcard_constraints:
        analysis=_choice(analyses_of("curvature")),
    log:
        f"{RESULTS}/logs/figures/curvature_{{analysis}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/curvature_{{analysis}}.tsv"
    conda:
        "../envs/losscape.yaml"
    script:
        "../scripts/figure_curvature.py"


rule figure_optimizers:
    input:
        runs=rules.optimizers.output.runs,
        paths=rules.optimizers.output.paths,
        landscape=analysis_landscape,
    output:
        png=report(
            f"{RESULTS}/figures/optimizers_{{analysis}}.png",
            caption="../report/optimizers.rst",
            category="Analyses",
            subcategory="{analysis}",
            labels={"figure": "{analysis}: optimizer paths"},
        ),
    wildcard_constraints:
        analysis=_choice(optimizer_analyses(animated=False)),
    log:
        f"{RESULTS}/logs/figures/optimizers_{{analysis}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/optimizers_{{analysis}}.tsv"
    conda:
        "../envs/losscape.yaml"
    script:
        "../scripts/figure_optimizers.py"


# The same figure plus the GIF, in one job: a job of its own would cost another start-up.
use rule figure_optimizers as figure_optimizers_animated with:
    output:
        png=report(
            f"{RESULTS}/figures/optimizers_{{analysis}}.png",
            caption="../report/optimizers.rst",
            category="Analyses",
            subcategory="{analysis}",
            labels={"figure": "{analysis}: optimizer paths"},
        ),
        gif=f"{RESULTS}/figures/optimizers_{{analysis}}.gif",
    wildcard_constraints:
        analysis=_choice(optimizer_analyses(animated=True)),


rule figure_input_attack:
    input:
        landscape=analysis_landscape,
        worst=rules.input_attack.output.worst,
        ascent=rules.input_attack.output.ascent,
        paths=rules.input_attack.output.paths,
        field=rules.input_attack.output.field,
    output:
        report(
            f"{RESULTS}/figures/attack_{{analysis}}.png",
            caption="../report/attack.rst",
            category="Analyses",
            subcategory="{analysis}",
            labels={"figure": "{analysis}: input-space attack"},
        ),
    wildcard_constraints:
        analysis=_choice(analyses_of("input_attack")),
    log:
        f"{RESULTS}/logs/figures/attack_{{analysis}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/attack_{{analysis}}.tsv"
    conda:
        "../envs/losscape.yaml"
    script:
        "../scripts/figure_input_attack.py"
