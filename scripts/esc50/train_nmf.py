"""Rule esc50_train_nmf: the NMF dictionary of L2I at one classifier's sample rate.

Calls :func:`xairepro.esc50.train.train_nmf` (resumable from its checkpoint).
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.train import train_nmf

smk = snakemake_or_mock(globals(), "esc50_train_nmf", scale="demo", arch="conv2d")
setup_logging(smk.log[0], smk.config["log_level"])
train_nmf(Path(smk.input.meta).parent.parent, smk.output.model, smk.output.metrics, smk.params.checkpoint,
          seed=smk.params.hparams["seed"], threads=smk.threads, folds=smk.params.folds,
          sample_rate=smk.params.sample_rate, cfg=smk.params.hparams, max_train_clips=smk.params.max_train_clips)
