"""Rule lossgrad_train_svd: train the singing-voice CNN of one seed, keeping the best validation epoch.

Calls :func:`xairepro.lossgrad.train.train_svd`; resumes from ``params.checkpoint`` when a
killed run left one.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.train import train_svd

smk = snakemake_or_mock(globals(), "lossgrad_train_svd", scale="demo", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
train_svd(
    smk.input.spects,
    smk.input.znorm,
    smk.output.model,
    smk.output.metrics,
    smk.params.checkpoint,
    seed=int(smk.wildcards.seed),
    threads=smk.params.torch_threads,
    **smk.params.train,
)
