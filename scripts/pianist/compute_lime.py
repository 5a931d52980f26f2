"""Rule pianist_compute_lime: LIME masks of every held-out clip for the baseline (npz).
Calls :func:`xairepro.pianist.steps.compute_lime`."""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.steps import compute_lime

smk = snakemake_or_mock(globals(), "pianist_compute_lime", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
compute_lime(smk.input.model, smk.input.data, smk.output.explanations, roll=smk.params.roll, threads=smk.threads,
             **smk.params.lime)
