"""Rule pianist_generate_data: the demo corpus (performer clips, split tables, concept MIDIs,
truth.json). Calls :func:`xairepro.pianist.data.generate_demo`."""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.data import generate_demo

smk = snakemake_or_mock(globals(), "pianist_generate_data")
setup_logging(smk.log[0], smk.config["log_level"])
generate_demo(smk.params.root, **smk.params.demo)
