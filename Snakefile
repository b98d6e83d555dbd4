# losscape: data -> trained MLPs -> weights -> loss landscapes -> figures, one MLflow run per job.
# Orchestration only: what is made, from what, to where. All logic is in src/losscape/.


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/landscape.smk"
include: "workflow/rules/directions.smk"
include: "workflow/rules/analysis.smk"


rule all:
    input:
        all_targets(),
        direction_targets(),
        analysis_targets(),
        f"{RESULTS}/software_versions.html",
    default_target: True


# The packages that computed the results, for the report; a new install rewrites it. No
# MLflow run. Not a `run:` block: Snakemake runs one in a snakemake of its own that parses
# the whole workflow again (4 s), where a script goes to the job server.
localrules:
    software_versions,


rule software_versions:
    output:
        report(
            f"{RESULTS}/software_versions.html",
            caption="workflow/report/software_versions.rst",
            category="5. Software versions",
            labels={"figure": "packages that computed these results"},
        ),
    params:
        versions=installed_versions(),
    log:
        f"{RESULTS}/logs/software_versions.log",
    conda:
        "workflow/envs/losscape.yaml"
    script:
        "workflow/scripts/software_versions.py"
