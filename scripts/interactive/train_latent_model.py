"""Rule interactive_train_latent_model: phase 2, one attribute's latent logistic regression
and its control, the same regression trained on shuffled labels.

Calls :func:`xairepro.interactive.train.train_latent_model` (resumable per epoch).
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.train import train_latent_model

smk = snakemake_or_mock(globals(), "interactive_train_latent_model", scale="demo", attr="Smiling")
setup_logging(smk.log[0], smk.config["log_level"])
cfg = smk.params.phase2
train_latent_model(smk.input.dataset, smk.wildcards.attr, smk.output.model, smk.output.metrics, smk.params.checkpoint,
                   epochs=cfg["epochs"], batch_size=cfg["batch_size"], lr=cfg["lr"], seed=cfg["seed"],
                   threads=smk.threads)
