"""Rule interactive_write_claims: ``claims.csv`` of the interactive study.

Reads the classifiers' validation accuracies beside their randomised copies', the per-image
heatmap tables and every phase-3 move
(learned and random directions); calls :func:`xairepro.interactive.tables.claims`. With
user_data, your classifier's heatmap table only: :func:`~xairepro.interactive.tables.user_claims`.
"""

import logging

import pandas as pd

from xairepro.common.claims import broken_invariants, failed_claims, mark_smoke
from xairepro.common.io import read_csv, read_json, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.tables import claims, user_claims

smk = snakemake_or_mock(globals(), "interactive_write_claims", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
if smk.input.user:  # user_data: your classifier's heatmaps only
    table = user_claims(read_csv(smk.input.user), smk.params.claims)
else:
    validation = pd.DataFrame([read_json(p) for p in smk.input.validation])
    heatmaps = pd.concat([read_csv(p) for p in smk.input.heatmaps], ignore_index=True)
    # each direction is scored by its own classifier whatever the evaluated one: the first table's moves
    moves = read_csv(smk.input.moves[0])
    table = claims(validation, heatmaps, moves, read_json(smk.input.latent_record), smk.params.claims)
table = mark_smoke(table, smk.config.get("smoke"))
write_csv(smk.output.claims, table, stamp("interactive", {"scale": smk.wildcards.scale, **smk.params.claims}))
for line in failed_claims(table) + broken_invariants(table):
    logging.getLogger("xairepro").warning("claim not reproduced: %s", line)
