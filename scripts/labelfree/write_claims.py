"""Rule labelfree_write_claims: ``claims.csv`` of the labelfree study.

Calls the claim functions of :mod:`xairepro.labelfree.tables` on each experiment's table:
claims 1.1 and 1.2 for every enabled data set (chance of 1.2: 1 / the data set's classes),
encoder vs full on MNIST, claims 2.1 and 2.2 on every pretext data set, claim 3 on every disentanglement data set. Each claim row carries its statistic, threshold
and negative control (columns of :data:`xairepro.common.claims.COLUMNS`). On a user's own
images (``params.user_data``) they are named after them, decided in their scale-free form
(no published MNIST values), and the claims the run cannot decide are ``not applicable``
(:func:`xairepro.labelfree.tables.user_data_not_applicable`). Under ``weights: published``
claim 1.2's influence functions and TracIn are not run (``params.examples_not_run``): their
claims are ``not applicable`` too, and claim 3 compares our pooled correlation of each of
FACT's VAE files with FACT's published value of that file (``input.fact_vae_metrics``,
tolerance ``params.fact_tolerance``).
"""

import logging

import pandas as pd

from xairepro.common.claims import broken_invariants, failed_claims, mark_smoke
from xairepro.common.io import read_csv, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.data import example_classes
from xairepro.labelfree.tables import (
    DATASET_NAMES, disvae_claims, encoder_vs_full_claims, example_consistency_claims, feature_consistency_claims,
    pretext_claims, user_data_not_applicable,
)

smk = snakemake_or_mock(globals(), "labelfree_write_claims", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
scale = smk.wildcards.scale
user_data = smk.params.get("user_data", False)
if user_data:
    DATASET_NAMES = {**DATASET_NAMES, "mnist": "your images"}
claim_scale = "demo" if user_data else scale  # the scale-free form of the published comparisons
datasets = [run["dataset"] for run in smk.params.features]
disentanglement = pd.concat([read_csv(path) for path in smk.input.disentanglement], ignore_index=True)
fact_files = list(smk.input.get("fact_vae_metrics") or [])
fact = pd.concat([read_csv(path) for path in fact_files], ignore_index=True) if fact_files else None
if user_data:
    disentanglement["dataset"] = disentanglement["dataset"].replace(DATASET_NAMES)
claims = pd.concat([
    *(feature_consistency_claims(read_csv(path), DATASET_NAMES[dataset])
      for path, dataset in zip(smk.input.features, datasets, strict=True)),
    *(example_consistency_claims(read_csv(path), DATASET_NAMES[run["dataset"]], example_classes(run["dataset"]),
                                 not_run=tuple(smk.params.get("examples_not_run", [])))
      for path, run in zip(smk.input.examples, smk.params.examples, strict=True)),
    encoder_vs_full_claims(read_csv(smk.input.encoder_vs_full), DATASET_NAMES["mnist"], claim_scale),
    *(pretext_claims(read_csv(path), DATASET_NAMES[run["dataset"]])
      for path, run in zip(smk.input.pretext, smk.params.pretext, strict=True)),
    disvae_claims(disentanglement, claim_scale, fact=fact, tolerance=smk.params.get("fact_tolerance", 0.05)),
    *([user_data_not_applicable(scale)] if user_data else []),
], ignore_index=True)
claims = mark_smoke(claims, smk.config.get("smoke"))
write_csv(smk.output.claims, claims, stamp("labelfree", {"scale": scale}))
for problem in failed_claims(claims) + broken_invariants(claims):
    logging.getLogger("xairepro").warning("claim not reproduced: %s", problem)
