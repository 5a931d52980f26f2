"""Rule interactive_place_fairface: runs only when the user-provided FairFace weights are
missing, and stops with a message saying where to get them and where to put them.
"""

from xairepro.common.errors import XaiReproError
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.models import FAIRFACE_FILE, FAIRFACE_SOURCE

smk = snakemake_or_mock(globals(), "interactive_place_fairface")
setup_logging(smk.log[0], smk.config["log_level"])
raise XaiReproError(
    f"{smk.output.weights}: FairFace's weights are user-provided, as in the original. Download {FAIRFACE_FILE} "
    f"from {FAIRFACE_SOURCE} and place it there (or point interactive.heatmaps.fairface_path at it); it is "
    "read weights-only. To skip FairFace, set interactive.heatmaps.paper.fairface_attrs: [] and drop "
    "ff-skin-color from interactive.generative.paper.attrs."
)
