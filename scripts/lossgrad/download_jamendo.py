"""Rule lossgrad_download_jamendo: the Jamendo archive, sha256-checked (a local rule).

Calls :func:`xairepro.lossgrad.svd_data.fetch_jamendo`; without configured URLs and
checksum it stops with instructions to place the archive by hand.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.svd_data import fetch_jamendo

smk = snakemake_or_mock(globals(), "lossgrad_download_jamendo")
setup_logging(smk.log[0], smk.params.log_level)
fetch_jamendo(smk.params.urls, smk.output.archive, smk.params.sha256)
