"""Rule labelfree_compute_encoder_vs_full: encoder and full-model attributions of one run and
their per-image correlations. Calls :func:`xairepro.labelfree.steps.encoder_vs_full`."""

from xairepro.common.io import write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.steps import encoder_vs_full

smk = snakemake_or_mock(globals(), "labelfree_compute_encoder_vs_full", scale="demo", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
seed = int(smk.wildcards.seed)
correlations = encoder_vs_full(smk.input.data, smk.input.model, smk.output.attributions, seed=seed,
                               threads=smk.threads, **smk.params.attribution)
write_csv(smk.output.correlations, correlations.assign(seed=seed), stamp("labelfree", dict(smk.params.attribution), seed))
