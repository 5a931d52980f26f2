"""Rule interactive_generate_faces: demo faces in the CelebAMask-HQ layout + planted regions.

Calls :func:`xairepro.interactive.data.generate_faces`.
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.data import generate_faces

smk = snakemake_or_mock(globals(), "interactive_generate_faces")
setup_logging(smk.log[0], smk.config["log_level"])
cfg = smk.params.faces
generate_faces(Path(smk.output.anno).parent, smk.output.regions, n_images=cfg["n_images"], size=cfg["size"],
               seed=cfg["seed"])
