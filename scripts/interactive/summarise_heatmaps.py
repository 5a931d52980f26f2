"""Rule interactive_summarise_heatmaps: planted-region mass and gradient correlation per
classifier and method.

Calls :func:`xairepro.interactive.tables.summarise_heatmaps`.
"""

from xairepro.common.io import read_csv, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.tables import summarise_heatmaps

smk = snakemake_or_mock(globals(), "interactive_summarise_heatmaps", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
table = summarise_heatmaps([read_csv(p) for p in smk.input.tables])
write_csv(smk.output.table, table, stamp("interactive", {"tables": len(smk.input.tables)}))
