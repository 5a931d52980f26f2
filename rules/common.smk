# Shared by every study: config validation, config lookups, resources, container images.
from pathlib import Path

from xairepro.common.config import validate_config

validate_config(config, Path(workflow.basedir) / "rules" / "config.schema.yaml", source="config")

SCALE = config["scale"]
SCALES = ("demo", "paper")


def study_cfg(study, part, scale):
    """The config block of one study part at one scale, e.g. lossgrad/mnist/demo."""
    return config[study][part][scale]


def resource(study, part, key):
    """A resource value (threads, mem_mb, runtime, gpu) read at job time from the config."""
    return lambda wildcards: study_cfg(study, part, wildcards.scale)["resources"][key]


def container_image(study):
    """The Apptainer image of a study, built from containers/<study>.def (`make images`)."""
    return f"{config['image_dir']}/{study}.sif"


def all_targets(wildcards):
    """The default target: every study's outputs at the configured scale."""
    return (
        lossgrad_targets(SCALE)
        + labelfree_targets(SCALE)
        + pianist_targets(SCALE)
        + esc50_targets(SCALE)
        + interactive_targets(SCALE)
    )
