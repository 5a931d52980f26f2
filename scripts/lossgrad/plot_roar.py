"""Rule lossgrad_plot_roar: ``fig_mnist_roar.png`` from ``mnist_roar.csv``.

Calls :func:`xairepro.lossgrad.figures.plot_roar`.
"""

from xairepro.common.io import read_csv
from xairepro.common.logs import setup_logging
from xairepro.common.plotting import save_figure, use_style
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.figures import plot_roar

smk = snakemake_or_mock(globals(), "lossgrad_plot_roar", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
use_style()
roar = read_csv(smk.input.roar, required=("variant", "seed", "method", "replacement", "order", "k", "accuracy"))
figure = plot_roar(roar, spread=smk.params.spread, panel_width=smk.params.panel_width,
                   panel_height=smk.params.panel_height, note=smk.params.note, data=smk.params.data)
save_figure(figure, smk.output.figure)
