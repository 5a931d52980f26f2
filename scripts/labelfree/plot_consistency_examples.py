"""Rule labelfree_plot_consistency_examples: ``fig_example_consistency_<dataset>.png``.

Calls :func:`xairepro.labelfree.figures.plot_consistency_examples`.
"""

from xairepro.common.io import read_csv
from xairepro.common.logs import setup_logging
from xairepro.common.plotting import save_figure, use_style
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.figures import plot_consistency_examples
from xairepro.labelfree.tables import DATASET_NAMES

smk = snakemake_or_mock(globals(), "labelfree_plot_consistency_examples", scale="demo", dataset="mnist")
setup_logging(smk.log[0], smk.config["log_level"])
use_style()
rates = read_csv(smk.input.table, required=("seed", "explainer", "examples", "fraction", "similarity_rate"))
name = DATASET_NAMES[smk.wildcards.dataset]
save_figure(plot_consistency_examples(rates, name, **smk.params.plot, note=smk.params.note), smk.output.figure)
