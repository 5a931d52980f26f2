"""Rule lossgrad_write_claims: ``claims.csv`` of both halves (MNIST and singing voice).

Calls :func:`xairepro.lossgrad.tables.mnist_claims` and
:func:`xairepro.lossgrad.tables.svd_claims`.
"""

import logging

import pandas as pd

from xairepro.common.io import read_csv, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.tables import mnist_claims, svd_claims

smk = snakemake_or_mock(globals(), "lossgrad_write_claims", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
claims = pd.concat([
    mnist_claims(read_csv(smk.input.roar), read_csv(smk.input.models), scale=smk.params.scale),
    svd_claims(read_csv(smk.input.svd_eval), read_csv(smk.input.svd_roar), scale=smk.params.scale),
], ignore_index=True)
write_csv(smk.output.claims, claims, stamp("lossgrad", {"scale": smk.params.scale}))
failed = claims[~claims["pass"]]
for row in failed.itertuples():
    logging.getLogger("xairepro").warning("claim not reproduced: %s (%s = %s)", row.claim, row.metric, row.value)
