"""Rule esc50_import_interpreter: a published PIQ decoder, L2I Psi + Theta or NMF dictionary.

Calls :func:`xairepro.esc50.published.import_interpreter`: the files loaded key for key into
our model classes and written as the trainers write theirs.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.published import import_interpreter

smk = snakemake_or_mock(globals(), "esc50_import_interpreter", scale="paper", kind="piq", arch="conv2d")
setup_logging(smk.log[0], smk.config["log_level"])
inputs = dict(smk.input.items())
import_interpreter(smk.wildcards.kind, smk.output.model, classifier_path=inputs.get("classifier"),
                   psi_ckpt=inputs.get("psi"), theta_ckpt=inputs.get("theta"), nmf_ckpt=inputs.get("nmf"),
                   cfg=smk.params.hparams)
