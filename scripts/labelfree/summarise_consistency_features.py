"""Rule labelfree_summarise_consistency_features: every run's shifts -> one table
(claim 1.1, feature-importance consistency, one data set)."""

import pandas as pd

from xairepro.common.io import read_csv, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock

smk = snakemake_or_mock(globals(), "labelfree_summarise_consistency_features", scale="demo", dataset="mnist")
setup_logging(smk.log[0], smk.config["log_level"])
shifts = pd.concat([read_csv(p, required=("seed", "method", "fraction", "item", "representation_shift"))
                    for p in smk.input.shifts], ignore_index=True)
write_csv(smk.output.table, shifts.sort_values(["seed", "method", "fraction", "item"]),
          stamp("labelfree", {"inputs": sorted(smk.input.shifts)}))
