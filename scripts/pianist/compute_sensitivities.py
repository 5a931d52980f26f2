"""Rule pianist_compute_sensitivities: per-clip CAV sensitivities (JSON) and sign counts per
performer, concept and experiment (CSV). Calls
:func:`xairepro.pianist.steps.compute_sensitivities`."""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.steps import compute_sensitivities

smk = snakemake_or_mock(globals(), "pianist_compute_sensitivities", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
compute_sensitivities(smk.input.model, smk.input.data, smk.input.cavs, smk.output.sensitivities,
                      smk.output.sign_counts, roll=smk.params.roll, threads=smk.threads, **smk.params.attribution)
