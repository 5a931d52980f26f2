"""Rule interactive_create_latent_dataset: phase 1, latent codes labelled by the classifiers.

Calls :func:`xairepro.interactive.steps.create_latent_dataset`.
"""

from xairepro.common.io import write_json
from xairepro.common.logs import setup_logging
from xairepro.common.seeding import seed_everything
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.models import load_classifiers, load_generative_inputs
from xairepro.interactive.steps import create_latent_dataset

smk = snakemake_or_mock(globals(), "interactive_create_latent_dataset", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
cfg, gen = smk.params.phase1, smk.params.generator
seed_everything(cfg["seed"], smk.threads)
generator = load_generative_inputs(smk.input.generator, gen["stylegan2_code"], gen["allow_generator_pickle"])
classifiers = load_classifiers(dict(zip(cfg["attrs"], smk.input.classifiers)))
record = create_latent_dataset(generator, classifiers, smk.output.dataset, n_train=cfg["n_train"],
                               n_valid=cfg["n_valid"], psi=cfg["psi"], gen_bs=cfg["gen_bs"],
                               classifier_size=smk.params.classifier_size, seed=cfg["seed"])
write_json(smk.output.record, record)
