"""Rule pianist_plot_lime: one LIME piano-roll figure per held-out clip, grouped by performer.
Calls :func:`xairepro.pianist.figures.write_lime_figures`."""

from xairepro.common.logs import setup_logging
from xairepro.common.plotting import use_style
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.figures import write_lime_figures

smk = snakemake_or_mock(globals(), "pianist_plot_lime", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
use_style()
write_lime_figures(smk.input.data, smk.input.explanations, smk.output.figures, roll=smk.params.roll,
                   width=smk.params.width, height=smk.params.height, n_features=smk.params.n_features)
