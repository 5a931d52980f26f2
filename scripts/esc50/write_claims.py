"""Rule esc50_write_claims: ``claims.csv`` of the esc50 study.

Calls :func:`xairepro.esc50.tables.claims` on the per-clip interpretation rows, the
accuracy table and the overlap test (on a user's own data, user_data: the planted-truth
claims read "not applicable").
"""

import logging

import pandas as pd

from xairepro.common.claims import failed_claims, mark_smoke
from xairepro.common.io import read_csv, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.tables import claims

smk = snakemake_or_mock(globals(), "esc50_write_claims", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
clips = pd.concat([read_csv(path) for path in smk.input.clips], ignore_index=True)
overlap = read_csv(smk.input.overlap[0]) if smk.input.overlap else None
table = claims(clips, read_csv(smk.input.accuracy), overlap, smk.params.scale, smk.params.user_data)
table = mark_smoke(table, smk.config.get("smoke"))
write_csv(smk.output.claims, table, stamp("esc50", {"scale": smk.params.scale}))
for failure in failed_claims(table):
    logging.getLogger("xairepro").warning("claim not reproduced: %s", failure)
