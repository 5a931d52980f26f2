"""Rule lossgrad_generate_jamendo: the demo stand-in for the Jamendo corpus.

Reads nothing; writes ``audio/``, ``labels/*.lab`` and ``filelists/`` under
``data/demo/jamendo/corpus`` via :func:`xairepro.lossgrad.data.write_demo_corpus`.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.data import write_demo_corpus

smk = snakemake_or_mock(globals(), "lossgrad_generate_jamendo")
setup_logging(smk.log[0], smk.config["log_level"])
write_demo_corpus(smk.output.corpus, **smk.params.corpus)
