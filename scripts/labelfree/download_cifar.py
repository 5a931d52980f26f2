"""Rule labelfree_download_cifar: the CIFAR-10/100 binary archive, md5-checked, safely
extracted, converted to ``train_x/train_y/test_x/test_y``.

Calls :func:`xairepro.common.download.download`, :func:`xairepro.common.download.safe_extract`
and :func:`xairepro.labelfree.data.cifar_arrays`.
"""

import tempfile
from pathlib import Path

from xairepro.common.download import download, safe_extract
from xairepro.common.io import save_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.data import cifar_arrays

smk = snakemake_or_mock(globals(), "labelfree_download_cifar", cifar="cifar10")
setup_logging(smk.log[0], smk.config["log_level"])
download(smk.params.source["url"], smk.output.raw, checksum=smk.params.source["checksum"])
with tempfile.TemporaryDirectory(dir=Path(smk.output.data).parent) as tmp:
    safe_extract(smk.output.raw, tmp)
    save_arrays(smk.output.data, **cifar_arrays(tmp, smk.wildcards.cifar))
