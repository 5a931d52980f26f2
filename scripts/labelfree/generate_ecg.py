"""Rule labelfree_generate_ecg: the demo ECG beats (ECGSYN), with the planted T-wave window.

Calls :func:`xairepro.labelfree.data.ecg_demo`.
"""

from xairepro.common.io import save_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.data import ecg_demo

smk = snakemake_or_mock(globals(), "labelfree_generate_ecg")
setup_logging(smk.log[0], smk.config["log_level"])
save_arrays(smk.output.data, **ecg_demo(**smk.params.ecg))
