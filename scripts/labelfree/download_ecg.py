"""Rule labelfree_download_ecg: ECG5000.zip, verified, read from the archive without extracting.

Calls :func:`xairepro.common.download.download` (against the pinned checksum if configured,
else the content check :func:`xairepro.labelfree.data.verify_ecg5000`) and
:func:`xairepro.labelfree.data.read_ecg5000`.
"""

from xairepro.common.download import download
from xairepro.common.io import save_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.data import read_ecg5000, verify_ecg5000

smk = snakemake_or_mock(globals(), "labelfree_download_ecg")
setup_logging(smk.log[0], smk.config["log_level"])
checksum = smk.params.source["checksum"]
download(smk.params.source["urls"], smk.output.raw, checksum=checksum, verify=None if checksum else verify_ecg5000)
save_arrays(smk.output.data, **read_ecg5000(smk.output.raw))
