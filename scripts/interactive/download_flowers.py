"""Rule interactive_download_flowers: 102flowers.tgz and imagelabels.mat, md5-checked.

Calls :func:`xairepro.common.download.download`.
"""

from xairepro.common.download import download
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock

smk = snakemake_or_mock(globals(), "interactive_download_flowers")
setup_logging(smk.log[0], smk.config["log_level"])
cfg = smk.params.flowers
download(cfg["archive_urls"], smk.output.archive, f"md5:{cfg['archive_md5']}")
download(cfg["labels_urls"], smk.output.labels, f"md5:{cfg['labels_md5']}")
