"""Rule pianist_run_music21: the whole pianist study on the music21 folder through
``pianist.user_data``, in a run directory of its own; its claims and figures copied beside
it. Calls :func:`xairepro.pianist.music21_corpus.run_study`."""

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.pianist.music21_corpus import run_study

smk = snakemake_or_mock(globals(), "pianist_run_music21")
setup_logging(smk.log[0], smk.config["log_level"])
run_study(smk.input.folder, smk.output.run, smk.output.claims, smk.output.figures, snakefile=smk.params.snakefile,
          cores=smk.threads, log_path=smk.log[0], study_config=smk.params.study,
          deployment=list(smk.params.deployment))
