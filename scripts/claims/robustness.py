"""Rule robustness: every study's demo claims at each seed offset of ``robustness_offsets``
(offset 0: this workflow's own demo tables; any other in results/robustness/offset<K>/),
then each claim's pass rate over the offsets and one verdict grid per study. Calls
:mod:`xairepro.common.robustness`."""

import logging
from pathlib import Path

from xairepro.common.io import write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.robustness import (cross_study_table, offset_table, pass_rates, plot_pass_rates,
                                         run_at_offset)
from xairepro.common.smk import snakemake_or_mock

smk = snakemake_or_mock(globals(), "robustness")
setup_logging(smk.log[0], smk.config["log_level"])
studies = list(smk.params.studies)
reference_paths = dict(zip(studies, smk.input))
reference = cross_study_table(reference_paths)
tables = {}
for offset in smk.params.offsets:
    if offset == 0:
        tables[0] = {study: Path(path) for study, path in reference_paths.items()}
    else:
        workdir = Path(smk.output.claims).parent / f"offset{offset}"
        tables[offset] = run_at_offset(smk.params.snakefile, workdir, offset, studies, smk.threads, smk.log[0],
                                       list(smk.params.deployment))
per_offset = offset_table(tables, reference)
rates = pass_rates(per_offset)
write_csv(smk.output.claims, per_offset, {"offsets": " ".join(map(str, smk.params.offsets))})
write_csv(smk.output.pass_rates, rates, {"offsets": " ".join(map(str, smk.params.offsets))})
for study, path in zip(studies, smk.output.figures):
    plot_pass_rates(per_offset, study, path)
logging.getLogger("xairepro").info("claims passing at every offset: %d of %d", int((rates.pass_rate == 1).sum()),
                                   len(rates))
