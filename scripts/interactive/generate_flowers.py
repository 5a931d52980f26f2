"""Rule interactive_generate_flowers: demo flowers in the Flowers102 layout + planted regions.

Calls :func:`xairepro.interactive.data.generate_flowers`.
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.data import generate_flowers

smk = snakemake_or_mock(globals(), "interactive_generate_flowers")
setup_logging(smk.log[0], smk.config["log_level"])
cfg = smk.params.flowers
generate_flowers(Path(smk.output.labels).parent, smk.output.regions, n_per_class=cfg["n_per_class"],
                 size=cfg["size"], seed=cfg["seed"])
