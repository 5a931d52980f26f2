"""Rule esc50_train_classifier: one classifier of the ESC50 classification recipe.

Calls :func:`xairepro.esc50.train.train_classifier` (resumable from its checkpoint; with
``use_pretrained`` its encoder starts from ``params.pretrained``), or with ``test_only``
:func:`xairepro.esc50.train.import_speechbrain_classifier`.
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.train import import_speechbrain_classifier, train_classifier

smk = snakemake_or_mock(globals(), "esc50_train_classifier", scale="demo", arch="conv2d")
setup_logging(smk.log[0], smk.config["log_level"])
root = Path(smk.input.meta).parent.parent
if smk.params.test_only:
    import_speechbrain_classifier(root, smk.input.embedding_ckpt, smk.input.classifier_ckpt, smk.output.model,
                                  smk.output.metrics, arch=smk.wildcards.arch, folds=smk.params.folds,
                                  cfg=smk.params.hparams)
else:
    train_classifier(root, smk.output.model, smk.output.metrics, smk.params.checkpoint, arch=smk.wildcards.arch,
                     seed=smk.params.seed, threads=smk.threads, folds=smk.params.folds, cfg=smk.params.hparams,
                     mask_augment=smk.params.mask_augment, max_train_clips=smk.params.max_train_clips,
                     pretrained_path=smk.params.pretrained)
