"""Rule interactive_summarise_generative: monotonicity of the scores along each direction.

Calls :func:`xairepro.interactive.tables.monotonicity`.
"""

import pandas as pd

from xairepro.common.io import read_csv, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.tables import monotonicity

smk = snakemake_or_mock(globals(), "interactive_summarise_generative", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
tables = [read_csv(p) for p in smk.input.scores]
tol = smk.params.mono_tol
table = pd.concat([monotonicity(t, tol).assign(eval_attr=t["eval_attr"].iloc[0]) for t in tables], ignore_index=True)
write_csv(smk.output.table, table, stamp("interactive", {"tables": len(tables)}))
