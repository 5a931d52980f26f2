"""Rule interactive_compute_heatmaps: the four captum heatmaps of one classifier (batched), and
the controls of its claims (maps and validation accuracy of randomised copies).

Calls :func:`xairepro.interactive.steps.compute_heatmaps`.
"""

from pathlib import Path

from xairepro.common.logs import setup_logging
from xairepro.common.provenance import stamp
from xairepro.common.smk import snakemake_or_mock
from xairepro.interactive.steps import compute_heatmaps

smk = snakemake_or_mock(globals(), "interactive_compute_heatmaps", scale="demo", classifier="celeb-Smiling")
setup_logging(smk.log[0], smk.config["log_level"])
cfg, data = smk.params.heatmaps, smk.params.data
compute_heatmaps(
    Path(smk.input.labels).parent, smk.input.model, smk.wildcards.classifier, smk.output.attributions,
    smk.output.table, size=data["size"], split_seed=data["split_seed"], ratio=data["ratio"], n_imgs=cfg["n_imgs"],
    methods=cfg["methods"], n_steps=cfg["n_steps"], nt_samples=cfg["nt_samples"], nt_type=cfg["nt_type"],
    internal_batch_size=cfg["internal_batch_size"], nt_samples_batch_size=cfg["nt_samples_batch_size"],
    outlier_perc=cfg["outlier_perc"], pad=data["flowers_pad"], crop_ratio=data["flowers_crop_ratio"],
    regions_path=smk.input.get("regions") or None, control_methods=smk.params.control_methods,
    out_json=smk.output.validation, seed=cfg["seed"], threads=smk.threads,
    provenance=stamp("interactive", {**cfg, "classifier": smk.wildcards.classifier}, cfg["seed"]),
)
