"""Rule interactive_extract_flowers: the jpg/ folder and imagelabels.mat side by side.

Calls :func:`xairepro.interactive.data.extract_flowers`.
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.data import extract_flowers

smk = snakemake_or_mock(globals(), "interactive_extract_flowers")
setup_logging(smk.log[0], smk.config["log_level"])
extract_flowers(smk.input.archive, smk.input.labels, Path(smk.output.labels).parent)
