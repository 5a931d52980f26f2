"""Rule pianist_download_published: one of the original's published checkpoints (a local rule).

Calls :func:`xairepro.pianist.published.fetch_published`: the checkpoint is extracted from the
Zenodo archive (verified again against the checksum the archive rule recorded) or copied from
the folder named in ``pianist.published.paper.dir``, and checked against its pinned sha256.
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.published import fetch_published

smk = snakemake_or_mock(globals(), "pianist_download_published", scale="paper", model="resnet")
setup_logging(smk.log[0], smk.config["log_level"])
published = smk.params.published
archive = smk.input.get("archive")
fetch_published(smk.output.checkpoint, member=published["member"], archive=archive,
                archive_checksum=Path(smk.input.checksum).read_text().strip() if archive else None,
                folder=published["dir"], sha256=published["sha256"])
