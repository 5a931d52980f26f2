"""Rule labelfree_train_classifier: the encoder + linear classifier of one run.

Calls :func:`xairepro.labelfree.train.train_classifier` (resumable).
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.train import train_classifier

smk = snakemake_or_mock(globals(), "labelfree_train_classifier", scale="demo", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
train_classifier(smk.input.data, smk.output.model, smk.output.metrics, smk.params.checkpoint,
                 seed=int(smk.wildcards.seed), threads=smk.threads, **smk.params.train)
