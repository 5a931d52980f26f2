"""Rule pianist_compute_kernel_heatmaps: kernel-occlusion sensitivity maps of the named clips
(npz). Calls :func:`xairepro.pianist.steps.compute_kernel_heatmaps`."""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.steps import compute_kernel_heatmaps

smk = snakemake_or_mock(globals(), "pianist_compute_kernel_heatmaps", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
compute_kernel_heatmaps(smk.input.model, smk.input.data, smk.input.cavs, smk.output.heatmaps,
                        roll=smk.params.roll, threads=smk.threads, **smk.params.heatmap)
