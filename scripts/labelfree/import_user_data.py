"""Rule labelfree_import_user_data: a user's images and labels (config labelfree.user_data),
validated before any training and written in the MNIST file's layout.

Calls :func:`xairepro.common.user_arrays.read_user_images`. FACT's MNIST experiments draw
class-balanced subsets over ten classes (:func:`xairepro.labelfree.data.balanced_subset`):
every class 0-9 must be present, with enough items for the configured subset sizes.
"""

import logging
import math

from xairepro.common.io import save_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.common.user_arrays import MAX_CLASSES, read_user_images

smk = snakemake_or_mock(globals(), "labelfree_import_user_data", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
user = smk.params.user_data
subtrain = max(smk.params.examples["subtrain_size"], smk.params.pretext["subtrain_size"])
subtest = smk.params.examples["subtest_size"]
arrays = read_user_images(
    user["path"], splits=user["splits"], resize=user["resize"], test_fraction=user["test_fraction"],
    split_seed=user["split_seed"], key="labelfree.user_data", required_classes=tuple(range(MAX_CLASSES)),
    why="FACT's MNIST experiments draw class-balanced subsets over all ten classes 0-9",
    min_per_class={
        "train": (math.ceil(subtrain / MAX_CLASSES), f"a balanced sub-train set of {subtrain} items, "
                  "labelfree.consistency_examples.subtrain_size / labelfree.pretext.subtrain_size"),
        "test": (math.ceil(subtest / MAX_CLASSES), f"a balanced sub-test set of {subtest} items, "
                 "labelfree.consistency_examples.subtest_size"),
    },
)
save_arrays(smk.output.data, **arrays)
logging.getLogger("xairepro").info(
    "%s: %d train / %d test images, pixel mean %.4f std %.4f",
    user["path"], len(arrays["train_y"]), len(arrays["test_y"]), arrays["mean"], arrays["std"],
)
