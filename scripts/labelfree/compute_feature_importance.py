"""Rule labelfree_compute_feature_importance: label-free attributions of the test images.

Calls :func:`xairepro.labelfree.steps.feature_importance`; the output is the declared
attribution cache of one run.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.steps import feature_importance

smk = snakemake_or_mock(globals(), "labelfree_compute_feature_importance", scale="demo", dataset="mnist", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
feature_importance(smk.input.data, smk.input.model, smk.output.attributions, dataset=smk.wildcards.dataset,
                   seed=int(smk.wildcards.seed), threads=smk.threads, **smk.params.attribution)
