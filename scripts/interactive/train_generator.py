"""Rule interactive_train_generator: the demo generator with the StyleGAN2 interface.

Calls :func:`xairepro.interactive.train.train_generator` (resumable per epoch).
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.train import train_generator

smk = snakemake_or_mock(globals(), "interactive_train_generator", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
cfg = smk.params.generator
train_generator(Path(smk.input.anno).parent, smk.output.model, smk.output.metrics, smk.params.checkpoint,
                size=cfg["img_resolution"], z_dim=cfg["z_dim"], channels=cfg["channels"], epochs=cfg["epochs"],
                batch_size=cfg["batch_size"], lr=cfg["lr"], latent_noise=cfg["latent_noise"], seed=cfg["seed"],
                threads=smk.threads)
