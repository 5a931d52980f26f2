"""Rule pianist_write_claims: ``claims.csv`` of the pianist study (demo: accuracy above
chance, TCAV's planted-truth recovery and LIME masks that outline a region; paper: the
published accuracies; each with its negative control; on a user's data, truth.json without
planted concepts, the planted-truth claims are ``not applicable``) and the CAV-size invariant. Calls :func:`xairepro.pianist.tables.claims`."""

import logging

import pandas as pd

from xairepro.common.claims import failed_claims, mark_smoke
from xairepro.common.io import load_arrays, read_csv, read_json, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.tables import claims

smk = snakemake_or_mock(globals(), "pianist_write_claims", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
accuracy = pd.concat([read_csv(path) for path in smk.input.accuracy], ignore_index=True)
truth = read_json(smk.input.truth) if smk.input.get("truth") else None
lime = load_arrays(smk.input.explanations) if smk.input.get("explanations") else None
table = claims(accuracy, read_csv(smk.input.sign_counts), truth, smk.wildcards.scale, smk.params.thresholds,
               cavs=load_arrays(smk.input.cavs), lime=lime)
table = mark_smoke(table, smk.config.get("smoke"))
write_csv(smk.output.claims, table, stamp("pianist", {"scale": smk.wildcards.scale, **smk.params.thresholds}))
for failed in failed_claims(table):
    logging.getLogger("xairepro").warning("claim not reproduced: %s", failed)
