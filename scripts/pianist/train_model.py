"""Rule pianist_train_model: the resnet baseline or DisentangleNet, evaluated on the held-out
splits (clip and track accuracy, confusion counts). Calls
:func:`xairepro.pianist.train.train_model` (resumable from its checkpoint)."""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.train import train_model

smk = snakemake_or_mock(globals(), "pianist_train_model", scale="demo", model="disentangle")
setup_logging(smk.log[0], smk.config["log_level"])
train_model(smk.input.data, smk.output.model, smk.output.metrics, smk.output.accuracy, smk.output.confusion,
            smk.params.checkpoint, kind=smk.wildcards.model, roll=smk.params.roll, threads=smk.threads,
            **smk.params.train)
