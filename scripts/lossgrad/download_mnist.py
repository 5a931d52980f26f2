"""Rule lossgrad_download_mnist: one MNIST archive, md5-checked, from the configured mirrors.

Calls :func:`xairepro.common.download.download` with the URLs and checksums of
:func:`xairepro.lossgrad.data.mnist_resources` (torchvision's mirrors and md5 sums unless
``lossgrad.mnist.mirrors`` / ``md5`` name others, as the paper-scale smoke run does).
"""

from pathlib import Path

from xairepro.common.download import download
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.data import mnist_resources

smk = snakemake_or_mock(globals(), "lossgrad_download_mnist", mnist_file="t10k-labels-idx1-ubyte")
setup_logging(smk.log[0], smk.config["log_level"])
resource = mnist_resources(smk.params.mirrors, smk.params.md5)[Path(smk.output.archive).name]
download(resource["urls"], smk.output.archive, checksum=resource["checksum"])
