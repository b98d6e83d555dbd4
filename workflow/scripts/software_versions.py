# Rule software_versions: the report's page of the packages that computed the results.
from sklandscape.pipeline.stages.software_versions import write_versions_page

write_versions_page(snakemake.output[0], snakemake.params.versions, snakemake.log[0])
