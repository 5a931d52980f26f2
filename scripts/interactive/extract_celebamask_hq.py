"""Rule interactive_extract_celebamask_hq: verify and extract the hand-placed archive.

Calls :func:`xairepro.interactive.data.extract_celebamask_hq`.
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.data import extract_celebamask_hq

smk = snakemake_or_mock(globals(), "interactive_extract_celebamask_hq")
setup_logging(smk.log[0], smk.config["log_level"])
extract_celebamask_hq(smk.input.archive, Path(smk.output.anno).parent, smk.params.sha256)
