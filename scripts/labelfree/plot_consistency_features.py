"""Rule labelfree_plot_consistency_features: ``fig_feature_consistency_<dataset>.png``.

Calls :func:`xairepro.labelfree.figures.plot_consistency_features`.
"""

from xairepro.common.io import read_csv
from xairepro.common.logs import setup_logging
from xairepro.common.plotting import save_figure, use_style
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.figures import plot_consistency_features
from xairepro.labelfree.tables import DATASET_NAMES

smk = snakemake_or_mock(globals(), "labelfree_plot_consistency_features", scale="demo", dataset="mnist")
setup_logging(smk.log[0], smk.config["log_level"])
use_style()
shifts = read_csv(smk.input.table, required=("seed", "method", "fraction", "representation_shift"))
dataset = smk.wildcards.dataset
figure = plot_consistency_features(shifts, DATASET_NAMES[dataset], **smk.params.plot,
                                   features="time steps" if dataset == "ecg" else "pixels", note=smk.params.note)
save_figure(figure, smk.output.figure)
