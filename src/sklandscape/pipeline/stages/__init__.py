"""One function per pipeline stage: files in, one call of the public API, files out, and a
dict of metrics back for the run. Workflow scripts call exactly one of these inside their
job; tests call them directly, without Snakemake.

`data` and `training` make the data and the networks; `landscapes`, `directions` and
`analyses` compute tables; `figures` and `pages` draw them; `descriptions` says in words what
a job made (its run's description); `software_versions` writes the report's versions page.
"""
