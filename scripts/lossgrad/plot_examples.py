"""Rule lossgrad_plot_examples: ``fig_mnist_examples.png``, digits before and after occlusion.

Reads the test split, the example model's gradient cache; calls
:func:`xairepro.lossgrad.figures.plot_examples`.
"""

import torch

from xairepro.common.io import load_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.plotting import save_figure, use_style
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.data import load_split
from xairepro.lossgrad.figures import plot_examples
from xairepro.lossgrad.train import load_model

smk = snakemake_or_mock(globals(), "lossgrad_plot_examples", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
use_style()
model = load_model(smk.input.model)
x, labels = load_split(smk.input.data, "test", model.num_classes)
grads = torch.from_numpy(load_arrays(smk.input.grads, required=("grads",))["grads"]).unsqueeze(1)
figure = plot_examples(x, grads, methods=smk.params.methods, orders=smk.params.orders, k=smk.params.k,
                       replacement=smk.params.replacement, n_examples=smk.params.n_examples, labels=labels,
                       classifier_type=model.classifier_type, num_classes=model.num_classes,
                       model_seed=smk.params.example["seed"])
save_figure(figure, smk.output.figure)
