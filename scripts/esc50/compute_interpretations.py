"""Rule esc50_compute_interpretations: one interpreter's masks and per-clip metrics on the test fold.

Calls :func:`xairepro.esc50.steps.build_interpreter` and
:func:`xairepro.esc50.steps.evaluate_interpreter`.
"""

from pathlib import Path

import torch

from xairepro.common.io import load_torch, save_arrays, write_csv
from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.steps import build_interpreter, evaluate_interpreter

smk = snakemake_or_mock(globals(), "esc50_compute_interpretations", scale="demo", method="piq", arch="conv2d")
setup_logging(smk.log[0], smk.config["log_level"])
torch.set_num_threads(smk.threads)
method, arch = smk.wildcards.method, smk.wildcards.arch
interpreter = build_interpreter(method, smk.input.classifier, smk.input.get("model"), smk.input.get("nmf"),
                                {"quantile": smk.params.quantile})
rows, arrays = evaluate_interpreter(interpreter, Path(smk.input.meta).parent.parent, smk.params.test_folds,
                                    int(load_torch(smk.input.classifier)["sample_rate"]), method, arch,
                                    control_seed=smk.params.control_seed)
save_arrays(smk.output.arrays, **arrays)
write_csv(smk.output.clips, rows, stamp("esc50", {"method": method, "arch": arch, "test_folds": smk.params.test_folds}))
