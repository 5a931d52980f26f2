"""Rule labelfree_write_claims: ``claims.csv`` of the labelfree study.

Calls the claim functions of :mod:`xairepro.labelfree.tables` on each experiment's table:
claim 1.1 for every enabled data set, claims 1.2, 2.1, 2.2 and encoder vs full on MNIST,
claim 3 on every disentanglement data set.
"""

import logging

import pandas as pd

from xairepro.common.io import read_csv, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.tables import (
    DATASET_NAMES, disvae_claims, encoder_vs_full_claims, example_consistency_claims, feature_consistency_claims,
    pretext_claims,
)

smk = snakemake_or_mock(globals(), "labelfree_write_claims", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
inputs = dict(smk.input.items())
features = [feature_consistency_claims(read_csv(path), DATASET_NAMES[key.removeprefix("features_")])
            for key, path in inputs.items() if key.startswith("features_")]
disentanglement = pd.concat([read_csv(path) for key, path in inputs.items() if key.startswith("disentanglement_")],
                            ignore_index=True)
claims = pd.concat([
    *features,
    example_consistency_claims(read_csv(smk.input.examples_mnist), "MNIST"),
    encoder_vs_full_claims(read_csv(smk.input.encoder_vs_full_mnist), "MNIST", smk.params.scale),
    pretext_claims(read_csv(smk.input.pretext_mnist), "MNIST"),
    disvae_claims(disentanglement, smk.params.scale),
], ignore_index=True)
write_csv(smk.output.claims, claims, stamp("labelfree", {"scale": smk.params.scale}))
for row in claims[~claims["pass"]].itertuples():
    logging.getLogger("xairepro").warning("claim not reproduced: %s (%s = %s)", row.claim, row.metric, row.value)
