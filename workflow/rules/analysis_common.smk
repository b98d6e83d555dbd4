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
