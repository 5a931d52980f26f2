"""Rule lossgrad_generate_mnist: the demo stand-in for MNIST.

Reads nothing (scikit-learn ships the digits); writes ``data/demo/mnist/mnist.npz`` via
:func:`xairepro.lossgrad.data.make_demo_digits`.
"""

import logging

from xairepro.common.io import save_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.data import make_demo_digits

smk = snakemake_or_mock(globals(), "lossgrad_generate_mnist")
setup_logging(smk.log[0], smk.config["log_level"])
arrays = make_demo_digits(seed=smk.params.seed, test_fraction=smk.params.test_fraction)
save_arrays(smk.output.data, **arrays)
logging.getLogger("xairepro").info(
    "%d train / %d test digits, pixel mean %.4f std %.4f",
    len(arrays["train_y"]), len(arrays["test_y"]), arrays["mean"], arrays["std"],
)
