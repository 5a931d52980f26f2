"""Rule interactive_train_classifier: one ResNet-18 classifier, frozen then unfrozen body.

Calls :func:`xairepro.interactive.train.train_classifier` (resumable per epoch).
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.train import train_classifier

smk = snakemake_or_mock(globals(), "interactive_train_classifier", scale="demo", classifier="celeb-Smiling")
setup_logging(smk.log[0], smk.config["log_level"])
cfg = smk.params.train
train_classifier(Path(smk.input.labels).parent, smk.wildcards.classifier, smk.input.labels, smk.output.model,
                 smk.output.metrics, smk.params.checkpoint, size=cfg["size"], freeze_epochs=cfg["freeze_epochs"],
                 unfreeze_epochs=cfg["unfreeze_epochs"], bs=cfg["bs"], lr=cfg["lr"], ratio=cfg["ratio"],
                 split_seed=cfg["split_seed"], imagenet_weights=smk.input.get("imagenet") or None, seed=cfg["seed"],
                 pad=cfg["flowers_pad"], crop_ratio=cfg["flowers_crop_ratio"], augment_train=cfg["flowers_augment"]
                 and smk.wildcards.classifier.startswith("flowers"),
                 blur_augment=cfg["blur_augment"], threads=smk.threads)
