"""Rule interactive_compute_user_heatmaps: the four captum heatmaps of your own ResNet-18
(scalar output) on your folder of images (static_exp.py --model_path --img_path), with the
deletion test of the claims; the checkpoint and every image are checked first.

Calls :func:`xairepro.interactive.user_data.compute_user_heatmaps`.
"""

from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.user_data import compute_user_heatmaps

smk = snakemake_or_mock(globals(), "interactive_compute_user_heatmaps", scale="demo")
setup_logging(smk.log[0], smk.config["log_level"])
cfg, user = smk.params.heatmaps, smk.params.user
compute_user_heatmaps(
    user["path"], user["checkpoint"], smk.output.attributions, smk.output.table, size=user["size"],
    methods=cfg["methods"], n_steps=cfg["n_steps"], nt_samples=cfg["nt_samples"], nt_type=cfg["nt_type"],
    internal_batch_size=cfg["internal_batch_size"], nt_samples_batch_size=cfg["nt_samples_batch_size"],
    outlier_perc=cfg["outlier_perc"], deletion_fraction=user["deletion_fraction"], seed=cfg["seed"],
    threads=smk.threads, provenance=stamp("interactive", {**cfg, **user}, cfg["seed"]),
)
