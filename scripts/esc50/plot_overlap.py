"""Rule esc50_plot_overlap: the overlap test figure (source, noise, mixture, mask, interpretation).

Calls :func:`xairepro.esc50.figures.plot_overlap`.
"""

from xairepro.common.io import load_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.figures import plot_overlap

smk = snakemake_or_mock(globals(), "esc50_plot_overlap", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
plot_overlap(load_arrays(smk.input.arrays), smk.output.figure, n_clips=smk.params.plot["n_clips"],
             panel_size=(smk.params.plot["panel_width"], smk.params.plot["panel_height"]))
