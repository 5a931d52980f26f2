"""Rule lossgrad_aggregate_occlusion: per-model sweeps -> the study's tables.

Calls :func:`xairepro.lossgrad.tables.aggregate_sweeps`; writes ``mnist_roar.csv``,
``mnist_sign_table.csv`` and ``mnist_models.csv``.
"""

from xairepro.common.io import write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.tables import aggregate_sweeps

smk = snakemake_or_mock(globals(), "lossgrad_aggregate_occlusion", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
roar, signs, models = aggregate_sweeps(smk.input.curves, smk.input.signs, smk.input.metrics)
provenance = stamp("lossgrad", {"inputs": sorted(smk.input.curves)})
write_csv(smk.output.roar, roar, provenance)
write_csv(smk.output.signs, signs, provenance)
write_csv(smk.output.models, models, provenance)
