"""Rule interactive_compute_fairface_heatmaps: the four captum heatmaps of FairFace's gender
or age output (static_exp.py --model_name fairface --attr), batched.

Calls :func:`xairepro.interactive.steps.compute_fairface_heatmaps`.
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.steps import compute_fairface_heatmaps

smk = snakemake_or_mock(globals(), "interactive_compute_fairface_heatmaps", scale="paper", classifier="fairface-gender")
setup_logging(smk.log[0], smk.config["log_level"])
cfg, data = smk.params.heatmaps, smk.params.data
attr = smk.wildcards.classifier.removeprefix("fairface-")
labels = smk.input.get("labels")
compute_fairface_heatmaps(
    smk.input.weights, attr, smk.output.attributions, smk.output.table,
    root=Path(labels).parent if labels else None, img_dir=cfg["fairface_img_dir"], n_imgs=cfg["n_imgs"],
    split_seed=data["split_seed"], ratio=data["ratio"], methods=cfg["methods"], n_steps=cfg["n_steps"],
    nt_samples=cfg["nt_samples"], nt_type=cfg["nt_type"], internal_batch_size=cfg["internal_batch_size"],
    nt_samples_batch_size=cfg["nt_samples_batch_size"], outlier_perc=cfg["outlier_perc"], seed=cfg["seed"],
    threads=smk.threads, provenance=stamp("interactive", {**cfg, "classifier": smk.wildcards.classifier}, cfg["seed"]),
)
