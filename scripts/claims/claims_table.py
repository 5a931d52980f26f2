"""Rule claims_table: every study's claims and invariants in one table (study, statistic,
threshold, control, verdict). Calls :func:`xairepro.common.robustness.cross_study_table`."""

import logging

from xairepro.common.io import write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.robustness import cross_study_table
from xairepro.common.smk import snakemake_or_mock

smk = snakemake_or_mock(globals(), "claims_table", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
table = cross_study_table(dict(zip(smk.params.studies, smk.input)))
write_csv(smk.output[0], table, {"scale": smk.wildcards.scale})
claims = table[table.kind == "claim"]
logging.getLogger("xairepro").info("%d claims: %s; %d invariants", len(claims),
                                   claims.verdict.value_counts().to_dict(), int((table.kind == "invariant").sum()))
