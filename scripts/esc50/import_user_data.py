"""Rule esc50_import_user_data: a user's ESC-50-format folder (config esc50.user_data.path),
validated before any training and copied into the study's data folder.

Calls :func:`xairepro.esc50.user_data.import_user_dataset` (meta/esc50.csv, audio/).
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.user_data import import_user_dataset

smk = snakemake_or_mock(globals(), "esc50_import_user_data", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
import_user_dataset(smk.params.path, smk.output.meta, smk.output.audio, smk.params.folds)
