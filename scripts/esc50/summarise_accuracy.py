"""Rule esc50_summarise_accuracy: the accuracy table of the classifiers.

Calls :func:`xairepro.esc50.tables.accuracy_table`.
"""

from xairepro.common.io import write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.tables import accuracy_table

smk = snakemake_or_mock(globals(), "esc50_summarise_accuracy", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
write_csv(smk.output.table, accuracy_table(smk.input.records), stamp("esc50", {"scale": smk.params.scale}))
