"""Rule labelfree_fact_vae_metrics: FACT's published metrics of its VAEs on {dataset}, one row
per VAE file, for claim 3's file-for-file comparison under ``weights: published``.

Calls :func:`xairepro.labelfree.published.fetch_published` (checksummed download from FACT's
repository at the pinned commit, a file placed by hand, or a copy from the FACT checkout
named by ``labelfree.published.dir``) and
:func:`xairepro.labelfree.published.read_fact_vae_metrics`.
"""

from xairepro.common.io import write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.published import fetch_published, read_fact_vae_metrics

smk = snakemake_or_mock(globals(), "labelfree_fact_vae_metrics", scale="paper", dataset="mnist")
setup_logging(smk.log[0], smk.config["log_level"])
source = smk.params.source
fetch_published(source["url"], smk.output.raw, source["checksum"], source_dir=source["dir"], repo_path=source["path"])
write_csv(smk.output.table, read_fact_vae_metrics(smk.output.raw, smk.wildcards.dataset),
          stamp("labelfree", {"source": source["url"], "checksum": source["checksum"]}))
