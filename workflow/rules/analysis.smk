# Analyses of a landscape (issue 4 §3-5): curvature, optimizers on a weights slice, and an
# attack on the input space. Each analysis names the landscape it works on; its slice (or
# input window) comes from that landscape's table, an input file, so editing the landscape
# reruns the analysis too. The config was checked at parse time (losscape.validation).

import json

from losscape.provenance import canonical_json

ANALYSES = dict(config.get("analyses") or {})


def analyses_of(kind):
    return [name for name, spec in ANALYSES.items() if spec["kind"] == kind]


def optimizer_analyses(animated):
    return [n for n in analyses_of("optimizers") if ANALYSES[n].get("animation", True) == animated]


def analysis_spec(analysis):
    """The analysis' config with keys sorted at every level: Snakemake compares params in
    order, and schema defaults are inserted wherever validation puts them, so without this
    writing out a default (or reordering keys) would rerun the analysis."""
    return json.loads(canonical_json(ANALYSES[analysis]))


def analysis_inputs(wc):
    landscape = ANALYSES[wc.analysis]["landscape"]
    network = landscape_network(landscape)
    return {
        "weights": f"{RESULTS}/models/{network}/weights.parquet",
        "data": f"{RESULTS}/data/{network_dataset(network)}.parquet",
        "landscape": f"{RESULTS}/landscapes/{landscape}.parquet",
    }


def analysis_landscape(wc):
    return f"{RESULTS}/landscapes/{ANALYSES[wc.analysis]['landscape']}.parquet"


def attack_target_function(wc):
    """The generating function the input-space error is measured against."""
    network = landscape_network(ANALYSES[wc.analysis]["landscape"])
    return dataset_function(network_dataset(network))


def analysis_targets():
    targets = []
    for name in analyses_of("curvature"):
        targets += [
            f"{RESULTS}/figures/{figure}_{name}.png"
            for figure in ("hessian", "convexity", "plateau")
        ]
    for name in analyses_of("optimizers"):
        targets.append(f"{RESULTS}/figures/optimizers_{name}.png")
        if ANALYSES[name].get("animation", True):
            targets.append(f"{RESULTS}/figures/optimizers_{name}.gif")
    for name in analyses_of("input_attack"):
        targets.append(f"{RESULTS}/figures/attack_{name}.png")
    return targets


ANALYSIS_DIR = f"{RESULTS}/analyses/{{analysis}}"


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
    script:
        "../scripts/input_attack.py"


rule figure_curvature:
    input:
        hessian=rules.curvature.output.hessian,
        curvature_map=rules.curvature.output.curvature_map,
    output:
        hessian=f"{RESULTS}/figures/hessian_{{analysis}}.png",
        convexity=f"{RESULTS}/figures/convexity_{{analysis}}.png",
        plateau=f"{RESULTS}/figures/plateau_{{analysis}}.png",
    wildcard_constraints:
        analysis=_choice(analyses_of("curvature")),
    log:
        f"{RESULTS}/logs/figures/curvature_{{analysis}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/curvature_{{analysis}}.tsv"
    script:
        "../scripts/figure_curvature.py"


rule figure_optimizers:
    input:
        runs=rules.optimizers.output.runs,
        paths=rules.optimizers.output.paths,
        landscape=analysis_landscape,
    output:
        png=f"{RESULTS}/figures/optimizers_{{analysis}}.png",
    wildcard_constraints:
        analysis=_choice(optimizer_analyses(animated=False)),
    log:
        f"{RESULTS}/logs/figures/optimizers_{{analysis}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/optimizers_{{analysis}}.tsv"
    script:
        "../scripts/figure_optimizers.py"


# The same figure plus the GIF, in one job: a job of its own would cost another start-up.
use rule figure_optimizers as figure_optimizers_animated with:
    output:
        png=f"{RESULTS}/figures/optimizers_{{analysis}}.png",
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
        f"{RESULTS}/figures/attack_{{analysis}}.png",
    wildcard_constraints:
        analysis=_choice(analyses_of("input_attack")),
    log:
        f"{RESULTS}/logs/figures/attack_{{analysis}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/attack_{{analysis}}.tsv"
    script:
        "../scripts/figure_input_attack.py"
