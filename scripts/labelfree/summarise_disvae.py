"""Rule labelfree_summarise_disvae: every VAE's saliency correlations of one data set -> one
table, ``disentanglement_<dataset>.csv``."""

import pandas as pd

from xairepro.common.io import read_csv, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock

smk = snakemake_or_mock(globals(), "labelfree_summarise_disvae", scale="demo", dataset="mnist")
setup_logging(smk.log[0], smk.config["log_level"])
table = pd.concat([read_csv(p, required=("dataset", "loss", "beta", "seed", "model", "correlation", "pooled"))
                   for p in smk.input.correlations], ignore_index=True)
write_csv(smk.output.table, table, stamp("labelfree", {"inputs": sorted(smk.input.correlations)}))
