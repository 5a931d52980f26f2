"""Rule esc50_write_audio: interpretation WAVs (inverse STFT with the original phase).

Calls :func:`xairepro.esc50.steps.write_interpretation_audio`.
"""

from pathlib import Path

from xairepro.common.io import load_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.models import clf_rate
from xairepro.esc50.steps import write_interpretation_audio

smk = snakemake_or_mock(globals(), "esc50_write_audio", scale="demo", method="piq", arch="conv2d")
setup_logging(smk.log[0], smk.config["log_level"])
write_interpretation_audio(load_arrays(smk.input.arrays), Path(smk.input.meta).parent.parent,
                           clf_rate(smk.input.classifier), smk.output.audio)
