"""Rule pianist_plot_kernel_heatmaps: one figure per named clip, one panel per concept.
Calls :func:`xairepro.pianist.figures.write_kernel_figures`."""

from xairepro.common.logs import setup_logging
from xairepro.common.plotting import use_style
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.figures import write_kernel_figures

smk = snakemake_or_mock(globals(), "pianist_plot_kernel_heatmaps", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
use_style()
write_kernel_figures(smk.input.heatmaps, smk.output.figures, roll=smk.params.roll, kernel=smk.params.kernel,
                     width=smk.params.width, height=smk.params.height)
