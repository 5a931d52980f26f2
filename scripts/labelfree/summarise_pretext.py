"""Rule labelfree_summarise_pretext: every run's task correlations of one data set -> CSV and
LaTeX tables, Pearson (``pretext_<dataset>.tex``) and Spearman (``_spearman.tex``), as the
original's pretext experiment computes both.

Calls :func:`xairepro.labelfree.tables.latex_table`.
"""

import pandas as pd

from xairepro.common.io import atomic_path, read_csv, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.tables import latex_table

smk = snakemake_or_mock(globals(), "labelfree_summarise_pretext", scale="demo", dataset="mnist")
setup_logging(smk.log[0], smk.config["log_level"])
table = pd.concat([read_csv(p, required=("kind", "task_a", "task_b", "pearson", "spearman", "seed"))
                   for p in smk.input.correlations], ignore_index=True)
write_csv(smk.output.table, table, stamp("labelfree", {"tasks": smk.params.tasks}))
for path, statistic, name in ((smk.output.latex, "pearson", "Pearson"), (smk.output.spearman, "spearman", "Spearman")):
    with atomic_path(path) as tmp:
        tmp.write_text(f"% Feature importance ({name}, mean +- std over runs)\n"
                       + latex_table(table, "features", smk.params.tasks, statistic)
                       + f"\n% Example importance ({name}, mean +- std over runs)\n"
                       + latex_table(table, "examples", smk.params.tasks, statistic))
