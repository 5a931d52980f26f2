"""Rule claims_deviations: a study's deviations from its original at one scale, each with the
knob's value in this run's config and whether the departure is in effect
(:func:`xairepro.common.deviations.resolve`)."""

import logging

import pandas as pd

from xairepro.common import deviations
from xairepro.common.io import write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock

smk = snakemake_or_mock(globals(), "claims_deviations", scale="demo", study="pianist")
setup_logging(smk.log[0], smk.config["log_level"])
study, scale = smk.wildcards.study, smk.wildcards.scale
rows = deviations.resolve(deviations.read_table(smk.input.table), smk.config, study, scale)
table = pd.DataFrame(rows, columns=[*deviations.COLUMNS, "value", "in_effect"])
write_csv(smk.output.table, table, {"study": study, "scale": scale})
logging.getLogger("xairepro").info("%s at %s scale: %d deviations, %d in effect", study, scale, len(table),
                                   int((table.in_effect == "yes").sum()))
