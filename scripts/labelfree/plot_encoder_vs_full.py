"""Rule labelfree_plot_encoder_vs_full: ``fig_encoder_vs_full_mnist.png``.

Calls :func:`xairepro.labelfree.figures.plot_encoder_vs_full`.
"""

from xairepro.common.io import read_csv
from xairepro.common.logs import setup_logging
from xairepro.common.plotting import save_figure, use_style
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.figures import plot_encoder_vs_full

smk = snakemake_or_mock(globals(), "labelfree_plot_encoder_vs_full", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
use_style()
table = read_csv(smk.input.table, required=("method", "pearson"))
save_figure(plot_encoder_vs_full(table, "MNIST", **smk.params.plot, note=smk.params.note), smk.output.figure)
