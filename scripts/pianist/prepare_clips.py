"""Rule pianist_prepare_clips: every clip of the split tables as one note table (npz).

Calls :func:`xairepro.pianist.data.prepare_clips`; a corrupt or empty clip stops the rule
with an error naming the file, and nothing is written.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.data import prepare_clips

smk = snakemake_or_mock(globals(), "pianist_prepare_clips", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
prepare_clips(smk.input.clips, smk.input.splits, smk.output.data, clip_seconds=smk.params.clip_seconds,
              min_duration=smk.params.min_duration)
