"""Rule labelfree_summarise_consistency_examples: every run's scores of one data set ->
per-item similarity rates, against the true and (the claims' control) shuffled training labels.

Calls :func:`xairepro.labelfree.steps.consistency_examples` per run.
"""

import pandas as pd

from xairepro.common.io import write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.steps import consistency_examples

smk = snakemake_or_mock(globals(), "labelfree_summarise_consistency_examples", scale="demo", dataset="mnist")
setup_logging(smk.log[0], smk.config["log_level"])
explainers, fractions, seeds = (smk.params.rates[key] for key in ("explainers", "fractions", "seeds"))
rates = pd.concat([consistency_examples(path, explainers=explainers, fractions=fractions, seed=seed).assign(seed=seed)
                   for path, seed in zip(smk.input.scores, seeds, strict=True)], ignore_index=True)
write_csv(smk.output.table, rates, stamp("labelfree", {"explainers": explainers, "fractions": fractions}))
