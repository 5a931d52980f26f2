"""Rule lossgrad_compute_occlusion: the occlusion sweep of one model.

Calls :func:`xairepro.lossgrad.steps.occlusion_sweep` and writes its two tables and the
per-image losses the claims resample.
"""

from xairepro.common.io import save_arrays, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.steps import occlusion_sweep

smk = snakemake_or_mock(globals(), "lossgrad_compute_occlusion", scale="demo", variant="sigmoid2", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
seed = int(smk.wildcards.seed)
curves, signs, items = occlusion_sweep(
    smk.input.data,
    smk.input.model,
    smk.input.grads,
    variant=smk.wildcards.variant,
    seed=seed,
    threads=smk.threads,
    **smk.params.sweep,
)
provenance = stamp("lossgrad", dict(smk.params.sweep, variant=smk.wildcards.variant), seed)
write_csv(smk.output.curves, curves, provenance)
write_csv(smk.output.signs, signs, provenance)
save_arrays(smk.output.per_image, **items)
