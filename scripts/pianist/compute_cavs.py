"""Rule pianist_compute_cavs: concept and random CAVs on the harmony branch (npz, a declared
output: never reloaded behind the workflow's back). Calls
:func:`xairepro.pianist.steps.compute_cavs`."""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.steps import compute_cavs

smk = snakemake_or_mock(globals(), "pianist_compute_cavs", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
compute_cavs(smk.input.model, smk.input.data, f"{smk.input.voicings}/midi_final", f"{smk.input.voicings}/cav_mapping.csv",
             smk.output.cavs,
             roll=smk.params.roll, threads=smk.threads, **smk.params.cav)
