"""Rule pianist_extract_archive: verify and safely extract the archive into the layout the
demo uses too. Calls :func:`xairepro.pianist.data.extract_archive`."""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.data import extract_archive

smk = snakemake_or_mock(globals(), "pianist_extract_archive")
setup_logging(smk.log[0], smk.config["log_level"])
extract_archive(smk.input.archive, Path(smk.output.clips).parent,
                checksum=Path(smk.input.checksum).read_text().strip(), split_dir=smk.params.split_dir)
