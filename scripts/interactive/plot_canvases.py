"""Rule interactive_plot_canvases: the generative explanation canvases of one classifier, a
page per direction (and block of ``canvas_rows`` faces) in one folder.

Calls :func:`xairepro.interactive.figures.plot_canvases`.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.figures import plot_canvases

smk = snakemake_or_mock(globals(), "interactive_plot_canvases", scale="demo", eval_attr="Smiling")
setup_logging(smk.log[0], smk.config["log_level"])
plot = smk.params.plot
plot_canvases(smk.input.frames, smk.output.pages, hw=plot["canvas_hw"], mult=plot["score_mult"],
              rows_per_page=plot["canvas_rows"], dpi=plot["canvas_dpi"])
