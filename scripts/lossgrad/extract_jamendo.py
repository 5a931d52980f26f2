"""Rule lossgrad_extract_jamendo: verify the Jamendo archive and extract the corpus.

Calls :func:`xairepro.lossgrad.data.extract_jamendo` with the checksum the download
rule verified (then :func:`xairepro.common.download.safe_extract`).
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.data import extract_jamendo

smk = snakemake_or_mock(globals(), "lossgrad_extract_jamendo")
setup_logging(smk.log[0], smk.config["log_level"])
extract_jamendo(smk.input.archive, smk.output.corpus, Path(smk.input.checksum).read_text().strip())
