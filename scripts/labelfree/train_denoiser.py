"""Rule labelfree_train_denoiser: the autoencoder of claim 1.2 of one data set and run and
its TracIn snapshots. Calls :func:`xairepro.labelfree.train.train_denoiser` (resumable)."""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.train import train_denoiser

smk = snakemake_or_mock(globals(), "labelfree_train_denoiser", scale="demo", dataset="mnist", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
train_denoiser(smk.input.data, smk.output.model, smk.output.metrics, smk.output.snapshots, smk.params.checkpoint,
               seed=int(smk.wildcards.seed), dataset=smk.wildcards.dataset, threads=smk.threads, **smk.params.train)
