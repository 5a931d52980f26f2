"""Rule interactive_place_published_generator: runs only when NVlabs' StyleGAN2-ADA generator,
converted once to a weights-only file (weights: published), is missing, and stops with how to make it.
"""

from xairepro.common.errors import XaiReproError
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock

smk = snakemake_or_mock(globals(), "interactive_place_published_generator", name="ffhq")
setup_logging(smk.log[0], smk.config["log_level"])
raise XaiReproError(
    f"{smk.output.generator}: NVlabs' StyleGAN2-ADA generator is a pickle, which this workflow never "
    "unpickles. Download https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/ffhq.pkl, convert "
    "its G_ema once to a weights-only file in NVlabs' own environment as docs/published-weights.md ('interactive') "
    "shows, place the file there (or point interactive.published.generator at it), and set "
    "interactive.generator.stylegan2_code to your clone of https://github.com/NVlabs/stylegan2-ada-pytorch."
)
