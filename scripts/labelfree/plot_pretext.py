"""Rule labelfree_plot_pretext: ``fig_pretext_saliency_<dataset>.png`` (each task's saliency
map over the test images) and ``fig_pretext_examples_<dataset>.png`` (each task's top
training example), from the first run's importance cache, as the original's pretext
experiment plots them.

Calls :func:`xairepro.labelfree.figures.plot_pretext_saliency` and
:func:`xairepro.labelfree.figures.plot_pretext_examples`.
"""

from xairepro.common.io import load_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.plotting import save_figure, use_style
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.figures import class_balanced_items, plot_pretext_examples, plot_pretext_saliency

smk = snakemake_or_mock(globals(), "labelfree_plot_pretext", scale="demo", dataset="mnist")
setup_logging(smk.log[0], smk.config["log_level"])
use_style()
tasks = smk.params.tasks
arrays = load_arrays(smk.input.importance)
items = class_balanced_items(arrays["labels"], smk.params.n_plots)
save_figure(plot_pretext_saliency(arrays["images"], arrays["labels"], {t: arrays[f"features_{t}"] for t in tasks},
                                  items, note=smk.params.note), smk.output.saliency)
save_figure(plot_pretext_examples(arrays["images"], arrays["labels"], arrays["subtrain_images"],
                                  {t: arrays[f"examples_{t}"] for t in tasks}, items, note=smk.params.note),
            smk.output.examples)
