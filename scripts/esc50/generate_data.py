"""Rule esc50_generate_data: the synthetic ESC-50-format demo folder.

Calls :func:`xairepro.esc50.data.write_demo_dataset` (audio/, meta/esc50.csv, meta/planted.csv).
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.esc50.data import write_demo_dataset

smk = snakemake_or_mock(globals(), "esc50_generate_data")
setup_logging(smk.log[0], smk.config["log_level"])
write_demo_dataset(Path(smk.output.meta).parent.parent, **smk.params.generator)
