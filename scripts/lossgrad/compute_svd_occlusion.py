"""Rule lossgrad_compute_svd_occlusion: ROAR/KAR occlusion of the test excerpts, ``svd_roar.csv``.

Calls :func:`xairepro.lossgrad.steps.svd_occlusion` on the cached gradients; also writes the
per-excerpt losses and errors the claims resample (``svd/occlusion_items.npz``).
"""

from xairepro.common.io import save_arrays, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.steps import svd_occlusion

smk = snakemake_or_mock(globals(), "lossgrad_compute_svd_occlusion", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
table, items = svd_occlusion(
    smk.input.spects,
    smk.input.znorm,
    smk.input.model,
    smk.input.grads,
    smk.input.predictions,
    threads=smk.params.torch_threads,
    **smk.params.sweep,
)
write_csv(smk.output.table, table, stamp("lossgrad", dict(smk.params.sweep), smk.params.sweep["seed"]))
save_arrays(smk.output.per_excerpt, **items)
