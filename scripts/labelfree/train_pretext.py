"""Rule labelfree_train_pretext: the encoder of one run on one data set ({dataset}) trained on
one task ({task}).

Calls :func:`xairepro.labelfree.train.train_task` (resumable).
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.train import train_task

smk = snakemake_or_mock(globals(), "labelfree_train_pretext", scale="demo", dataset="mnist", task="denoising",
                        seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
train_task(smk.input.data, smk.output.model, smk.output.metrics, smk.params.checkpoint, task=smk.wildcards.task,
           dataset=smk.wildcards.dataset, seed=int(smk.wildcards.seed), threads=smk.threads, **smk.params.train)
