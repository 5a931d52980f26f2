"""Rule esc50_train_l2i: L2I (Psi + Theta) on one frozen classifier and its NMF dictionary.

Calls :func:`xairepro.esc50.train.train_l2i` (resumable from its checkpoint).
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.train import train_l2i

smk = snakemake_or_mock(globals(), "esc50_train_l2i", scale="demo", arch="conv2d")
setup_logging(smk.log[0], smk.config["log_level"])
train_l2i(Path(smk.input.meta).parent.parent, smk.input.classifier, smk.input.nmf, smk.output.model,
          smk.output.metrics, smk.params.checkpoint, seed=smk.params.hparams["seed"], threads=smk.threads,
          folds=smk.params.folds, cfg=smk.params.hparams, max_train_clips=smk.params.max_train_clips)
