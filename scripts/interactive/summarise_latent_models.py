"""Rule interactive_summarise_latent_models: the latent-model quality table (phase 2).

Calls :func:`xairepro.interactive.tables.summarise_records`.
"""

from xairepro.common.io import read_json, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.tables import LATENT_COLUMNS, summarise_records

smk = snakemake_or_mock(globals(), "interactive_summarise_latent_models", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
table = summarise_records([read_json(p) for p in smk.input.metrics], LATENT_COLUMNS)
record = read_json(smk.input.record)
write_csv(smk.output.table, table, stamp("interactive", {"psi": record["psi"], "n_train": record["n_train"]}))
