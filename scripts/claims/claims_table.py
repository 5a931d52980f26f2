"""Rule claims_table: every study's claims and invariants in one table (study, statistic,
threshold, control, verdict), and the two plain tables the HTML report opens on (verdicts
by study, every claim). Calls :func:`xairepro.common.robustness.cross_study_table` and
:func:`xairepro.common.claims.report_tables`."""

import logging

from xairepro.common.claims import report_tables
from xairepro.common.io import atomic_path, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.robustness import cross_study_table
from xairepro.common.smk import snakemake_or_mock

smk = snakemake_or_mock(globals(), "claims_table", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
table = cross_study_table(dict(zip(smk.params.studies, smk.input)))
write_csv(smk.output.table, table, {"scale": smk.wildcards.scale})
# docutils' csv-table reads these for report/workflow.rst: no provenance lines
for frame, path in zip(report_tables(table), (smk.output.summary, smk.output.listing)):
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n")
claims = table[table.kind == "claim"]
logging.getLogger("xairepro").info("%d claims: %s; %d invariants", len(claims),
                                   claims.verdict.value_counts().to_dict(), int((table.kind == "invariant").sum()))
