"""Rule interactive_download_published: one classifier the originals publish (weights:
published), read from the user's folder (the original's base_dir layout) or its mirrors, and
checked against its published checksum (the git blob id of the file in its repository's tree,
or a sha256) and its layout (a state dict of tensors).

Calls :func:`xairepro.interactive.published.fetch_published`.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.published import fetch_published

smk = snakemake_or_mock(globals(), "interactive_download_published", classifier="celeb-Smiling")
setup_logging(smk.log[0], smk.config["log_level"])
source = smk.params.source
fetch_published(source["urls"], smk.output.weights, git_blob=source["git_blob_sha1"], sha256=source["sha256"],
                folder=source["dir"], name=source["file"])
