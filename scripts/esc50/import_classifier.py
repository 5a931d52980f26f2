"""Rule esc50_import_classifier: a published classifier of the recipes (weights: published).

Calls :func:`xairepro.esc50.published.import_classifier`: the embedding model and head
loaded key for key, evaluated on the validation and test folds, written as a trained one.
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.published import import_classifier

smk = snakemake_or_mock(globals(), "esc50_import_classifier", scale="paper", arch="conv2d")
setup_logging(smk.log[0], smk.config["log_level"])
import_classifier(Path(smk.input.meta).parent.parent, smk.input.embedding, smk.input.head, smk.output.model,
                  smk.output.metrics, arch=smk.wildcards.arch, folds=smk.params.folds, cfg=smk.params.hparams)
