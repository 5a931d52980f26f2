"""Rule lossgrad_download_jamendo: the Jamendo archive, checksum-verified (a local rule).

Calls :func:`xairepro.lossgrad.data.fetch_jamendo`: the checksum is the configured
sha256, else the md5 Zenodo publishes for the file; the one used is written beside the
archive for the extract rule.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.data import fetch_jamendo

smk = snakemake_or_mock(globals(), "lossgrad_download_jamendo")
setup_logging(smk.log[0], smk.config["log_level"])
fetch_jamendo(smk.params.urls, smk.output.archive, smk.output.checksum, smk.params.sha256,
              record_api=smk.params.record_api, name=smk.params.name)
