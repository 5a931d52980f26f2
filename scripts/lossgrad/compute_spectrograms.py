"""Rule lossgrad_compute_spectrograms: log-mel spectrograms of a Jamendo-layout corpus.

Calls :func:`xairepro.lossgrad.data.compute_spectrograms` and
:func:`~xairepro.lossgrad.data.znorm_stats`; writes the spectrogram cache and the
training set's per-band mean and standard deviation.
"""

import torch

from xairepro.common.io import save_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.lossgrad.data import compute_spectrograms, znorm_stats

smk = snakemake_or_mock(globals(), "lossgrad_compute_spectrograms", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
torch.set_num_threads(smk.threads)
arrays = compute_spectrograms(smk.input.corpus)
save_arrays(smk.output.spects, **arrays)
save_arrays(smk.output.znorm, **znorm_stats(arrays["train_spect"]))
