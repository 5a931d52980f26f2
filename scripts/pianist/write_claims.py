"""Rule pianist_write_claims: ``claims.csv`` of the pianist study (demo: planted-truth
recovery and accuracy floors; paper: the published accuracies). Calls
:func:`xairepro.pianist.tables.claims`."""

import logging

import pandas as pd

from xairepro.common.io import read_csv, read_json, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.tables import claims

smk = snakemake_or_mock(globals(), "pianist_write_claims", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
accuracy = pd.concat([read_csv(path) for path in smk.input.accuracy], ignore_index=True)
truth = read_json(smk.input.truth) if smk.input.get("truth") else None
table = claims(read_csv(smk.input.summary), accuracy, truth, smk.wildcards.scale, smk.params.thresholds)
write_csv(smk.output.claims, table, stamp("pianist", {"scale": smk.wildcards.scale, **smk.params.thresholds}))
for row in table[~table["pass"]].itertuples():
    logging.getLogger("xairepro").warning("claim not reproduced: %s (%s = %s)", row.claim, row.metric, row.value)
