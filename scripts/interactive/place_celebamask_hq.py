"""Rule interactive_place_celebamask_hq: runs only when the hand-placed archive is missing,
and stops with a message saying where to get it and where to put it.
"""

from xairepro.common.errors import XaiReproError
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.data import missing_celeb_archive_message

smk = snakemake_or_mock(globals(), "interactive_place_celebamask_hq")
setup_logging(smk.log[0], smk.config["log_level"])
raise XaiReproError(missing_celeb_archive_message(smk.output.archive))
