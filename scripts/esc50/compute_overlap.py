"""Rule esc50_compute_overlap: the overlap test of PIQ on mixtures of two test clips.

Calls :func:`xairepro.esc50.steps.overlap_test`.
"""

from pathlib import Path

import torch

from xairepro.common.io import save_arrays, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.models import clf_rate
from xairepro.esc50.steps import build_interpreter, overlap_test

smk = snakemake_or_mock(globals(), "esc50_compute_overlap", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
torch.set_num_threads(smk.threads)
interpreter = build_interpreter("piq", smk.input.classifier, smk.input.model)
rows, arrays = overlap_test(interpreter, Path(smk.input.meta).parent.parent, smk.params.test_folds,
                            clf_rate(smk.input.classifier), smk.params.mix, control_seed=smk.params.control_seed)
save_arrays(smk.output.arrays, **arrays)
write_csv(smk.output.table, rows, stamp("esc50", {"test": "overlap", "mix": smk.params.mix}))
