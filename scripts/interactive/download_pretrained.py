"""Rule interactive_download_pretrained: torchvision's ImageNet weights file of one network,
checked against its sha256 (or the first digits torchvision puts in the file name).

Calls :func:`xairepro.interactive.models.download_pretrained`.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.models import download_pretrained

smk = snakemake_or_mock(globals(), "interactive_download_pretrained", net="resnet18")
setup_logging(smk.log[0], smk.config["log_level"])
download_pretrained(smk.params.source["urls"], smk.output.weights, smk.params.source["sha256"])
