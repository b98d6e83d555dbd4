# Rule software_versions: the report's page of the packages that computed the results.
from losscape.pipeline.job_handover import hand_over

hand_over()  # the preloaded job server runs the rest, where one runs

from losscape.pipeline.software_versions import write_versions_page

write_versions_page(snakemake.output[0], snakemake.params.versions, snakemake.log[0])
