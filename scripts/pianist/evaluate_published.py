"""Rule pianist_evaluate_published: a published checkpoint in our model class, evaluated.

Calls :func:`xairepro.pianist.published.evaluate_published`: strict key-for-key loading (a
misfit stops naming the file and the key), our weights file for the attribution rules, and the
held-out accuracy (with the randomised control) and confusion tables a trained model gets.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.published import evaluate_published

smk = snakemake_or_mock(globals(), "pianist_evaluate_published", scale="paper", model="resnet")
setup_logging(smk.log[0], smk.config["log_level"])
evaluate_published(smk.input.checkpoint, smk.input.data, smk.output.model, smk.output.metrics,
                   smk.output.accuracy, smk.output.confusion, kind=smk.wildcards.model, roll=smk.params.roll,
                   threads=smk.threads, **smk.params.evaluation)
