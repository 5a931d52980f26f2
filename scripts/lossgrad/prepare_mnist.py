"""Rule lossgrad_prepare_mnist: the four MNIST archives -> ``data/paper/mnist/mnist.npz``.

Decompresses with :func:`xairepro.common.download.gunzip` and reads the IDX files with
:func:`xairepro.lossgrad.data.read_mnist_raw` (torchvision's readers).
"""

import tempfile
from pathlib import Path

from xairepro.common.download import gunzip
from xairepro.common.io import save_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.data import read_mnist_raw

smk = snakemake_or_mock(globals(), "lossgrad_prepare_mnist")
setup_logging(smk.log[0], smk.config["log_level"])
with tempfile.TemporaryDirectory(dir=Path(smk.output.data).parent) as raw:
    for archive in smk.input.archives:
        gunzip(archive, Path(raw) / Path(archive).stem)
    save_arrays(smk.output.data, **read_mnist_raw(raw))
