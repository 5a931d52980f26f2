"""Rule labelfree_download_dsprites: the official dSprites file, md5-checked, converted.

Calls :func:`xairepro.common.download.download` and
:func:`xairepro.labelfree.data.read_official_dsprites` (which never unpickles).
"""

from xairepro.common.download import download
from xairepro.common.io import save_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.data import DSPRITES_CHECKSUM, DSPRITES_URL, read_official_dsprites

smk = snakemake_or_mock(globals(), "labelfree_download_dsprites")
setup_logging(smk.log[0], smk.config["log_level"])
download(DSPRITES_URL, smk.output.raw, checksum=DSPRITES_CHECKSUM)
save_arrays(smk.output.data, **read_official_dsprites(smk.output.raw))
