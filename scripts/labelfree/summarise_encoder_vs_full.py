"""Rule labelfree_summarise_encoder_vs_full: every run's per-image correlations -> one table."""

import pandas as pd

from xairepro.common.io import read_csv, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock

smk = snakemake_or_mock(globals(), "labelfree_summarise_encoder_vs_full", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
table = pd.concat([read_csv(p, required=("seed", "method", "image", "pearson")) for p in smk.input.correlations],
                  ignore_index=True)
write_csv(smk.output.table, table, stamp("labelfree", {"inputs": sorted(smk.input.correlations)}))
