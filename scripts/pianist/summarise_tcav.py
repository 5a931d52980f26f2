"""Rule pianist_summarise_tcav: mean sign counts with Wilcoxon stars, concept-concept and
performer-performer correlations (CSVs). Calls :func:`xairepro.pianist.steps.summarise_tcav`."""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.steps import summarise_tcav

smk = snakemake_or_mock(globals(), "pianist_summarise_tcav", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
summarise_tcav(smk.input.sign_counts, smk.output.summary, smk.output.concepts, smk.output.performers)
