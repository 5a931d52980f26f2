"""Rule lossgrad_plot_svd_roar: ``fig_svd_roar.png`` from ``svd_roar.csv``.

Calls :func:`xairepro.lossgrad.figures.plot_svd_roar`.
"""

from xairepro.common.io import read_csv
from xairepro.common.logs import setup_logging
from xairepro.common.plotting import save_figure, use_style
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.figures import plot_svd_roar

smk = snakemake_or_mock(globals(), "lossgrad_plot_svd_roar", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
use_style()
table = read_csv(smk.input.table, required=("method", "replacement", "order", "k", "auroc", "error"))
figure = plot_svd_roar(table, panel_width=smk.params.panel_width, panel_height=smk.params.panel_height,
                       note=smk.params.note)
save_figure(figure, smk.output.figure)
