"""Rule esc50_download_published: one of the recipes' published model files (weights: published).

Calls :func:`xairepro.esc50.published.fetch_published`: from ``published.dir`` where set,
else from the file's url, checked by its pinned checksum or as a weights-only state dict.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.published import fetch_published

smk = snakemake_or_mock(globals(), "esc50_download_published", scale="paper", item="conv2d_embedding")
setup_logging(smk.log[0], smk.config["log_level"])
source = smk.params.source
fetch_published(smk.output.weights, source["url"], source["checksum"], source["dir"], smk.wildcards.item)
