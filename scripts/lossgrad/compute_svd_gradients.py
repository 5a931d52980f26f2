"""Rule lossgrad_compute_svd_gradients: the batched loss-gradient cache of the test excerpts.

``input.model`` is the network ``svd.lossgradient`` names (the original's ``--lossgradient``):
by default the seed's own, else another seed's SVDNet of the same architecture.

Calls :func:`xairepro.lossgrad.steps.compute_svd_gradients` (captum Saliency over the loss).
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.steps import compute_svd_gradients

smk = snakemake_or_mock(globals(), "lossgrad_compute_svd_gradients", scale="demo", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
compute_svd_gradients(
    smk.input.spects,
    smk.input.znorm,
    smk.input.model,
    smk.output.grads,
    gradient_batch_size=smk.params.gradient_batch_size,
    frame_step=smk.params.frame_step,
    seed=int(smk.wildcards.seed),
    threads=smk.params.torch_threads,
)
