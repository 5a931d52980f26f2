"""Rule interactive_plot_heatmaps: the heatmap figure of one classifier.

Calls :func:`xairepro.interactive.figures.plot_heatmaps`.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.figures import plot_heatmaps

smk = snakemake_or_mock(globals(), "interactive_plot_heatmaps", scale="demo", classifier="celeb-Smiling")
setup_logging(smk.log[0], smk.config["log_level"])
plot = smk.params.plot
plot_heatmaps(smk.input.attributions, smk.output.figure, classifier=smk.wildcards.classifier, cmap=plot["cmap"],
              interp=plot["interp"], panel_inches=plot["panel_inches"], dpi=plot["dpi"],
              outlier_perc=smk.params.outlier_perc, zero_maps_as_ones=plot["zero_maps_as_ones"])
