"""Rule labelfree_compute_consistency_features: representation shift vs masked pixels, one run.

Calls :func:`xairepro.labelfree.steps.consistency_features`.
"""

from xairepro.common.io import write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.steps import consistency_features

smk = snakemake_or_mock(globals(), "labelfree_compute_consistency_features", scale="demo", dataset="mnist", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
seed = int(smk.wildcards.seed)
shifts = consistency_features(smk.input.model, smk.input.attributions, seed=seed, **smk.params.masking)
write_csv(smk.output.shifts, shifts.assign(seed=seed), stamp("labelfree", dict(smk.params.masking), seed))
