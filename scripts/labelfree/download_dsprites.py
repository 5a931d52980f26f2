"""Rule labelfree_download_dsprites: the official dSprites file, md5-checked, converted.

Calls :func:`xairepro.common.download.download` and
:func:`xairepro.labelfree.data.read_official_dsprites` (which never unpickles).
"""

from xairepro.common.download import download
from xairepro.common.io import save_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.data import read_official_dsprites

smk = snakemake_or_mock(globals(), "labelfree_download_dsprites")
setup_logging(smk.log[0], smk.config["log_level"])
download(smk.params.source["url"], smk.output.raw, checksum=smk.params.source["checksum"])
save_arrays(smk.output.data, **read_official_dsprites(smk.output.raw))
