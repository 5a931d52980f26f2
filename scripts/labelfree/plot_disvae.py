"""Rule labelfree_plot_disvae: ``fig_disentanglement_<dataset>.png``.

Calls :func:`xairepro.labelfree.figures.plot_disvae`.
"""

from xairepro.common.io import read_csv
from xairepro.common.logs import setup_logging
from xairepro.common.plotting import save_figure, use_style
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.figures import plot_disvae

smk = snakemake_or_mock(globals(), "labelfree_plot_disvae", scale="demo", dataset="mnist")
setup_logging(smk.log[0], smk.config["log_level"])
use_style()
table = read_csv(smk.input.table, required=("dataset", "loss", "beta", "correlation"))
save_figure(plot_disvae(table, **smk.params.plot, note=smk.params.note), smk.output.figure)
