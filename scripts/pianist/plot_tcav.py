"""Rule pianist_plot_tcav: the sign-count heatmap (dendrogram order, stars) and the two
correlation heatmaps. Calls :mod:`xairepro.pianist.figures`."""

from xairepro.common.io import read_csv
from xairepro.common.logs import setup_logging
from xairepro.common.plotting import save_figure, use_style
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.figures import plot_correlation, plot_sign_counts

smk = snakemake_or_mock(globals(), "pianist_plot_tcav", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
use_style()
size = {"width": smk.params.width, "height": smk.params.height, "cmap": smk.params.cmap}
save_figure(plot_sign_counts(read_csv(smk.input.summary), **size), smk.output.sign_counts)
for key, title in (("concepts", "concept-concept correlation of sign counts"),
                   ("performers", "performer-performer correlation of sign counts")):
    matrix = read_csv(smk.input[key]).set_index(key[:-1])
    save_figure(plot_correlation(matrix, title=title, **size), smk.output[key])
