"""Rule labelfree_download_ecg: ECG5000.zip, verified, read from the archive without extracting.

Calls :func:`xairepro.common.download.download` (with the pinned checksum if configured,
and always the content check :func:`xairepro.labelfree.data.verify_ecg5000`) and
:func:`xairepro.labelfree.data.read_ecg5000`.
"""

from xairepro.common.download import download
from xairepro.common.io import save_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.data import ECG5000_URLS, read_ecg5000, verify_ecg5000

smk = snakemake_or_mock(globals(), "labelfree_download_ecg")
setup_logging(smk.log[0], smk.config["log_level"])
download(ECG5000_URLS, smk.output.raw, checksum=smk.params.checksum, verify=verify_ecg5000)
save_arrays(smk.output.data, **read_ecg5000(smk.output.raw))
