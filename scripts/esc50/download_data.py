"""Rule esc50_download_data: ESC-50 master.zip, checksummed, extracted without escaping its folder.

Calls :func:`xairepro.esc50.data.fetch_paper_dataset`.
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.data import fetch_paper_dataset

smk = snakemake_or_mock(globals(), "esc50_download_data")
setup_logging(smk.log[0], smk.config["log_level"])
fetch_paper_dataset(smk.output.archive, Path(smk.output.meta).parent.parent, smk.params.url, smk.params.checksum,
                    smk.params.shape)
