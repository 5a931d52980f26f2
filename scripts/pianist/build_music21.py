"""Rule pianist_build_music21: the music21 corpus's composers as performers, written in the
user-data layout (clips per piece, split tables by piece; no network). Calls
:func:`xairepro.pianist.music21_corpus.build_music21`."""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.music21_corpus import build_music21

smk = snakemake_or_mock(globals(), "pianist_build_music21")
setup_logging(smk.log[0], smk.config["log_level"])
build_music21(smk.output.folder, **smk.params.corpus, **smk.params.clips)
