"""Rule lossgrad_aggregate_svd: every SVDNet's tables -> ``svd_eval.csv`` and ``svd_roar.csv``.

Calls :func:`xairepro.lossgrad.tables.aggregate_svd` on the per-seed ``eval.csv`` and
``roar.csv`` (one model per ``svd.seeds``, as the original's run-all loops over models).
"""

from xairepro.common.io import write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.tables import aggregate_svd

smk = snakemake_or_mock(globals(), "lossgrad_aggregate_svd", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
evaluation, roar = aggregate_svd(smk.input.tables, smk.input.roar, smk.params.seeds)
provenance = stamp("lossgrad", {"inputs": sorted(smk.input.roar)})
write_csv(smk.output.table, evaluation, provenance)
write_csv(smk.output.roar, roar, provenance)
