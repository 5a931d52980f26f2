"""Rule esc50_plot_interpretations: per-clip 4-panel figure of one interpreter.

Calls :func:`xairepro.esc50.figures.plot_clips`.
"""

from xairepro.common.io import load_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.figures import plot_clips

smk = snakemake_or_mock(globals(), "esc50_plot_interpretations", scale="demo", method="piq", arch="conv2d")
setup_logging(smk.log[0], smk.config["log_level"])
plot_clips(load_arrays(smk.input.arrays), smk.output.figure, title=f"{smk.wildcards.method} / {smk.wildcards.arch}",
           mask_th=smk.params.mask_th, n_clips=smk.params.plot["n_clips"],
           panel_size=(smk.params.plot["panel_width"], smk.params.plot["panel_height"]))
