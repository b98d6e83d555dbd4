# Landscapes along chosen directions: every pair of weights, random filter-normalised planes,
# Hessian planes, the initial-to-trained line and the PCA plane of the training path, and any
# kind the registry (sklandscape.kinds) adds with a `result` function. One rule per kind, made
# here from its registry entry: what it reads, what it writes. Each job computes its tables
# and draws its figures in one MLflow run (a second job per figure would double the fixed cost
# of a job, which is most of the time here).


for kind in DIRECTION_KINDS:

    rule:
        name:
            kind
        input:
            unpack(direction_inputs(kind)),
        output:
            **direction_outputs(kind),
        wildcard_constraints:
            landscape=_choice(landscapes_of_kind(kind)),
        params:
            kind=kind,
            # the shared script and this kind's own module: an edit to one kind reruns it alone
            code=code_hash("direction.py", kind),
            spec=lambda wc: landscape_spec(wc.landscape),
            config_hash=lambda wc: landscape_config_hash(wc.landscape),
        log:
            f"{RESULTS}/logs/landscape/{{landscape}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/landscape/{{landscape}}.tsv"
        conda:
            "../envs/sklandscape.yaml"
        script:
            "../scripts/direction.py"
