"""Rule lossgrad_train_classifier: train one Net for a head ({variant}) and seed.

Calls :func:`xairepro.lossgrad.train.train_classifier`; resumes from ``params.checkpoint``
when a killed run left one.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.models import parse_variant
from xairepro.lossgrad.train import train_classifier

smk = snakemake_or_mock(globals(), "lossgrad_train_classifier", scale="demo", variant="sigmoid2", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
classifier_type, num_classes = parse_variant(smk.wildcards.variant)
train_classifier(
    smk.input.data,
    smk.output.model,
    smk.output.metrics,
    smk.params.checkpoint,
    classifier_type=classifier_type,
    num_classes=num_classes,
    seed=int(smk.wildcards.seed),
    threads=smk.threads,
    **smk.params.train,
)
