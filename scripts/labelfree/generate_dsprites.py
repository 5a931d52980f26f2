"""Rule labelfree_generate_dsprites: the demo dSprites, rendered from sampled factors.

Calls :func:`xairepro.labelfree.data.render_dsprites`.
"""

from xairepro.common.io import save_arrays
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.labelfree.data import render_dsprites

smk = snakemake_or_mock(globals(), "labelfree_generate_dsprites")
setup_logging(smk.log[0], smk.config["log_level"])
sprites = smk.params.sprites
save_arrays(smk.output.data, **render_dsprites(sprites["dsprites_n"], size=sprites["dsprites_size"], seed=0))
