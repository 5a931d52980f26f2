"""Rule lossgrad_write_claims: ``claims.csv`` of both halves (MNIST and singing voice).

Calls :func:`xairepro.lossgrad.tables.mnist_claims` and
:func:`xairepro.lossgrad.tables.svd_claims` on the per-item arrays of the occlusion rules.
On a user's own images (``params.user_data``) the accuracy threshold is chance and the
singing-voice claims, which did not run, are ``not applicable``
(:func:`xairepro.lossgrad.tables.svd_not_applicable`).
"""

import logging

import pandas as pd

from xairepro.common.claims import broken_invariants, failed_claims, mark_smoke
from xairepro.common.io import load_arrays, read_csv, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.tables import mnist_claims, svd_claims, svd_not_applicable

smk = snakemake_or_mock(globals(), "lossgrad_write_claims", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
items = {(run["variant"], run["seed"]): load_arrays(path) for run, path in zip(smk.params.runs, smk.input.per_image)}
user_data = smk.params.get("user_data", False)
claims = pd.concat([
    mnist_claims(read_csv(smk.input.roar), read_csv(smk.input.models), items, scale=smk.params.scale,
                 user_data=user_data),
    svd_not_applicable() if user_data else
    svd_claims(read_csv(smk.input.svd_eval), load_arrays(smk.input.svd_predictions), read_csv(smk.input.svd_roar),
               load_arrays(smk.input.svd_per_excerpt), scale=smk.params.scale, frame_step=smk.params.frame_step),
], ignore_index=True)
claims = mark_smoke(claims, smk.config.get("smoke"))
write_csv(smk.output.claims, claims, stamp("lossgrad", {"scale": smk.params.scale}))
for line in failed_claims(claims) + broken_invariants(claims):
    logging.getLogger("xairepro").warning("not reproduced: %s", line)
