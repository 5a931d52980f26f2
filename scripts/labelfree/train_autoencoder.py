"""Rule labelfree_train_autoencoder: the autoencoder of one data set and run.

Calls :func:`xairepro.labelfree.train.train_autoencoder` (resumable from its checkpoint).
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.train import train_autoencoder

smk = snakemake_or_mock(globals(), "labelfree_train_autoencoder", scale="demo", dataset="mnist", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
train_autoencoder(smk.input.data, smk.output.model, smk.output.metrics, smk.params.checkpoint,
                  dataset=smk.wildcards.dataset, seed=int(smk.wildcards.seed), threads=smk.threads, **smk.params.train)
