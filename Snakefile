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
    default_target: True
