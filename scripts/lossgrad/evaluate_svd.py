"""Rule lossgrad_evaluate_svd: one model's ``eval.csv`` and its clean predictions with their threshold.

Calls :func:`xairepro.lossgrad.steps.evaluate_svd`.
"""

from xairepro.common.io import write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.steps import evaluate_svd

smk = snakemake_or_mock(globals(), "lossgrad_evaluate_svd", scale="demo", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
table = evaluate_svd(
    smk.input.spects,
    smk.input.znorm,
    smk.input.model,
    smk.output.predictions,
    median_filter=smk.params.median_filter,
    test_batch_size=smk.params.test_batch_size,
    seed=int(smk.wildcards.seed),
    frame_step=smk.params.frame_step,
    threads=smk.params.torch_threads,
)
write_csv(smk.output.table, table, stamp("lossgrad", {"median_filter": smk.params.median_filter}))
