"""Rule esc50_summarise_interpretations: the interpretation table (mean over test clips).

Calls :func:`xairepro.esc50.tables.interpretation_table`.
"""

from xairepro.common.io import read_csv, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.tables import interpretation_table

smk = snakemake_or_mock(globals(), "esc50_summarise_interpretations", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
table = interpretation_table([read_csv(p) for p in smk.input.clips])
write_csv(smk.output.table, table, stamp("esc50", {"scale": smk.params.scale}))
