"""Rule interactive_explain_generative: phase 3, projections and moves along every direction
(and along random directions, one per face, the claims' control).

Calls :func:`xairepro.interactive.steps.explain_images`.
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.seeding import seed_everything
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.data import phase3_inputs
from xairepro.interactive.models import load_classifiers, load_generative_inputs, load_latent_direction
from xairepro.interactive.steps import explain_images

smk = snakemake_or_mock(globals(), "interactive_explain_generative", scale="demo", eval_attr="Smiling")
setup_logging(smk.log[0], smk.config["log_level"])
cfg, gen, data = smk.params.phase3, smk.params.generator, smk.params.data
seed_everything(cfg["seed"], smk.threads)
generator = load_generative_inputs(smk.input.generator, gen["stylegan2_code"], gen["allow_generator_pickle"])
names = smk.params.names
classifiers = load_classifiers(dict(zip(names["classifiers"], smk.input.classifiers)))
directions = {a: load_latent_direction(p) for a, p in zip(names["latent"], smk.input.latent)}
images, names = phase3_inputs(Path(smk.input.anno).parent, smk.wildcards.eval_attr, size=data["size"],
                              n_input_imgs=cfg["n_input_imgs"], split_seed=data["split_seed"], ratio=data["ratio"],
                              input_img_dir=cfg["input_img_dir"])
explain_images(generator, smk.wildcards.eval_attr, classifiers, directions, images, names, smk.output.frames,
               smk.output.scores, classifier_size=data["size"], reconstruction_steps=cfg["reconstruction_steps"],
               initial_learning_rate=cfg["initial_learning_rate"], projection_loss=cfg["projection_loss"],
               ampl=cfg["ampl"], steps=cfg["steps"], vgg16_weights=smk.input.get("vgg16") or None,
               random_seed=cfg["seed"],
               provenance=stamp("interactive", cfg, cfg["seed"]))
