"""Rule interactive_place_stylegan2: runs only when the user-provided StyleGAN2-ADA pickle is
missing, and stops with a message saying where to get it and where to put it.
"""

from xairepro.common.errors import XaiReproError
from xairepro.common.logs import setup_logging
from xairepro.common.smk import snakemake_or_mock

smk = snakemake_or_mock(globals(), "interactive_place_stylegan2", name="ffhq")
setup_logging(smk.log[0], smk.config["log_level"])
raise XaiReproError(
    f"{smk.output.pickle}: the StyleGAN2-ADA generator is user-provided. Download a pickle such as "
    "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/ffhq.pkl, place it there, clone "
    "https://github.com/NVlabs/stylegan2-ada-pytorch and set interactive.generator.stylegan2_code to it, "
    "and set interactive.generator.allow_generator_pickle: true (unpickling runs code: trusted files only)."
)
