"""Rule lossgrad_compute_svd_occlusion: ROAR/KAR occlusion of one model's test excerpts, ``roar.csv``.

Calls :func:`xairepro.lossgrad.steps.svd_occlusion` on the cached gradients; also writes the
per-excerpt losses and errors the claims resample (``svd/occlusion_items.npz``).
"""

from xairepro.common.io import save_arrays, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.steps import svd_occlusion

smk = snakemake_or_mock(globals(), "lossgrad_compute_svd_occlusion", scale="demo", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
seed = int(smk.wildcards.seed)
table, items = svd_occlusion(
    smk.input.spects,
    smk.input.znorm,
    smk.input.model,
    smk.input.grads,
    smk.input.predictions,
    seed=seed,
    lossgradient=smk.params.lossgradient,
    threads=smk.params.torch_threads,
    **smk.params.sweep,
)
write_csv(smk.output.table, table, stamp("lossgrad", dict(smk.params.sweep, lossgradient=smk.params.lossgradient), seed))
save_arrays(smk.output.per_excerpt, **items)
