"""Rule pianist_download_archive: the Zenodo archive, checksum-verified (a local rule).

Calls :func:`xairepro.pianist.data.fetch_archive`: the checksum is the configured sha256,
else the md5 Zenodo publishes for the file; the one used is written beside the archive.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.data import fetch_archive

smk = snakemake_or_mock(globals(), "pianist_download_archive")
setup_logging(smk.log[0], smk.config["log_level"])
fetch_archive(smk.params.urls, smk.output.archive, smk.output.checksum, sha256=smk.params.sha256,
              record_api=smk.params.record_api, name=smk.params.name)
