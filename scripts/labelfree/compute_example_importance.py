"""Rule labelfree_compute_example_importance: every explainer's scores for one data set and run.

Calls :func:`xairepro.labelfree.steps.example_importance`.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.steps import example_importance

smk = snakemake_or_mock(globals(), "labelfree_compute_example_importance", scale="demo", dataset="mnist", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
example_importance(smk.input.data, smk.input.model, smk.input.get("snapshots") or None, smk.output.scores,
                   seed=int(smk.wildcards.seed), dataset=smk.wildcards.dataset, threads=smk.threads,
                   **smk.params.explain)
