"""Rule lossgrad_compute_gradients: the batched loss-gradient cache of one model.

Calls :func:`xairepro.lossgrad.steps.compute_gradients` (captum Saliency over the loss).
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.steps import compute_gradients

smk = snakemake_or_mock(globals(), "lossgrad_compute_gradients", scale="demo", variant="sigmoid2", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
compute_gradients(
    smk.input.data,
    smk.input.model,
    smk.output.grads,
    internal_batch_size=smk.params.internal_batch_size,
    threads=smk.threads,
)
