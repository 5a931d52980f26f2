"""Rule esc50_train_piq: the PIQ decoder of one frozen classifier.

Calls :func:`xairepro.esc50.train.train_piq` (resumable from its checkpoint).
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.train import train_piq

smk = snakemake_or_mock(globals(), "esc50_train_piq", scale="demo", arch="conv2d")
setup_logging(smk.log[0], smk.config["log_level"])
train_piq(Path(smk.input.meta).parent.parent, smk.input.classifier, smk.output.model, smk.output.metrics,
          smk.params.checkpoint, seed=smk.params.hparams["seed"], threads=smk.threads, folds=smk.params.folds,
          cfg=smk.params.hparams, max_train_clips=smk.params.max_train_clips)
