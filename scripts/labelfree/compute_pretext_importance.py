"""Rule labelfree_compute_pretext_importance: every task's feature and example importance of
one run on one data set ({dataset}), and the correlations (Pearson, Spearman) between tasks. Calls :func:`xairepro.labelfree.steps.task_importance`
and :func:`xairepro.labelfree.steps.correlation_tables`."""

from xairepro.common.io import write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.steps import correlation_tables, task_importance

smk = snakemake_or_mock(globals(), "labelfree_compute_pretext_importance", scale="demo", dataset="mnist", seed="0")
setup_logging(smk.log[0], smk.config["log_level"])
seed = int(smk.wildcards.seed)
models = dict(zip(smk.params.tasks, smk.input.models, strict=True))
task_importance(smk.input.data, models, smk.output.importance, seed=seed, dataset=smk.wildcards.dataset,
                threads=smk.threads, **smk.params.importance)
table = correlation_tables(smk.output.importance, smk.params.tasks).assign(seed=seed)
write_csv(smk.output.correlations, table, stamp("labelfree", dict(smk.params.importance), seed))
