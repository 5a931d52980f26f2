"""Rule interactive_write_claims: ``claims.csv`` of the interactive study.

Calls :func:`xairepro.interactive.tables.claims`.
"""

import logging

from xairepro.common.io import read_csv, read_json, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.tables import claims

smk = snakemake_or_mock(globals(), "interactive_write_claims", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
generative = read_csv(smk.input.generative)
# each direction is scored by its own classifier whatever the evaluated one: one row per direction
generative = generative.drop_duplicates("direction")
table = claims(read_csv(smk.input.classifiers), read_csv(smk.input.heatmaps), read_csv(smk.input.latent), generative,
               read_json(smk.input.latent_record), smk.params.claims)
write_csv(smk.output.claims, table, stamp("interactive", {"scale": smk.wildcards.scale, **smk.params.claims}))
for row in table[~table["pass"]].itertuples():
    logging.getLogger("xairepro").warning("claim not reproduced: %s (%s = %s)", row.claim, row.metric, row.value)
