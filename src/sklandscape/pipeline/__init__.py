"""The Snakemake pipeline's side of sklandscape; installed with the [pipeline] extra.

Three concerns, each a subpackage that imports neither of the others (an import-linter
contract keeps it so):

- `config`: what the Snakefile checks while it parses, before any job starts: the schema
  and the checks only the data can make, config files, dataset facts, resource estimates;
- `tracking`: run records that jobs write, and the process that logs them to MLflow (the
  only code that imports mlflow), with its settings;
- `stages`: one function per stage, files in and files out, calling the public API.

Above them, `jobs` wraps a workflow script's one stage call in its log file and run record,
and `cli` is the `sklandscape` command. Nothing imports this package except the workflow
(workflow/Snakefile, its rules and scripts).
"""
