"""Rule lossgrad_write_claims: ``claims.csv`` from the sweep and the clean model metrics.

Calls :func:`xairepro.lossgrad.mnist.mnist_claims`.
"""

import logging

from xairepro.common.io import read_csv, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.tables import mnist_claims

smk = snakemake_or_mock(globals(), "lossgrad_write_claims", scale="demo")
setup_logging(smk.log[0], smk.params.log_level)
claims = mnist_claims(read_csv(smk.input.roar), read_csv(smk.input.models), scale=smk.params.scale)
write_csv(smk.output.claims, claims, stamp("lossgrad", {"scale": smk.params.scale}))
failed = claims[~claims["pass"]]
for row in failed.itertuples():
    logging.getLogger("xairepro").warning("claim not reproduced: %s (%s = %s)", row.claim, row.metric, row.value)
