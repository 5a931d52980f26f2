"""Rule lossgrad_import_user_data: a user's images and labels (config lossgrad.user_data),
validated before any training and written as the study's ``mnist.npz`` layout.

Calls :func:`xairepro.common.user_arrays.read_user_images` (a .npz of ``images``/``labels``
/``split``, or a folder of MNIST IDX files); the binary heads need classes 0 and 1.
"""

import logging

from xairepro.common.io import save_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.common.user_arrays import read_user_images

smk = snakemake_or_mock(globals(), "lossgrad_import_user_data", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
user = smk.params.user_data
arrays = read_user_images(
    user["path"], splits=user["splits"], resize=user["resize"], test_fraction=smk.params.split["test_fraction"],
    split_seed=smk.params.split["split_seed"], key="lossgrad.user_data", required_classes=(0, 1),
    why="the softmax2 and sigmoid2 heads classify class 0 against class 1, as the original's binary MNIST heads",
)
save_arrays(smk.output.data, **arrays)
logging.getLogger("xairepro").info(
    "%s: %d train / %d test images, pixel mean %.4f std %.4f",
    user["path"], len(arrays["train_y"]), len(arrays["test_y"]), arrays["mean"], arrays["std"],
)
