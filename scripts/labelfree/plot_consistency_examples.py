"""Rule labelfree_plot_consistency_examples: ``fig_consistency_examples_mnist.png``.

Calls :func:`xairepro.labelfree.figures.plot_consistency_examples`.
"""

from xairepro.common.io import read_csv
from xairepro.common.logs import setup_logging
from xairepro.common.plotting import save_figure, use_style
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.figures import plot_consistency_examples

smk = snakemake_or_mock(globals(), "labelfree_plot_consistency_examples", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
use_style()
rates = read_csv(smk.input.table, required=("seed", "explainer", "examples", "fraction", "similarity_rate"))
save_figure(plot_consistency_examples(rates, "MNIST", **smk.params.plot, note=smk.params.note), smk.output.figure)
