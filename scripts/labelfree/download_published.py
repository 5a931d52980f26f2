"""Rule labelfree_download_published: one of FACT's published models ({kind}: an autoencoder
of claim 1.1, an MNIST classifier of encoder vs full, claim 1.2's model, a pretext encoder of
claims 2.1/2.2 or a VAE of claim 3), fetched and mapped.

Calls :func:`xairepro.labelfree.published.fetch_published` (checksummed download from FACT's
repository at the pinned commit, a file placed by hand, or a copy from the FACT checkout
named by ``labelfree.published.dir``) and :func:`xairepro.labelfree.published.import_published`
(strict key mapping onto our model class; written as our own checkpoint).
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.published import fetch_published, import_published

smk = snakemake_or_mock(globals(), "labelfree_download_published", scale="paper", kind="autoencoder", dataset="mnist",
                        seed="1")
setup_logging(smk.log[0], smk.config["log_level"])
source = smk.params.source
fetch_published(source["url"], smk.output.raw, source["checksum"], source_dir=source["dir"], repo_path=source["path"])
import_published(smk.output.raw, smk.output.model, kind=smk.wildcards.kind, dataset=smk.wildcards.dataset,
                 latent_dim=smk.params.latent_dim, run=int(smk.wildcards.seed), source=source["url"])
