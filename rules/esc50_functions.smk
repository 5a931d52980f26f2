# Input functions and targets of the esc50 rules (kept apart from the rules, as the
# Snakemake linter asks). Every config value is read through setting() (rules/common.smk).

from xairepro.esc50.tables import CLAIMED_METHODS

# The ESC-50-format folder, generated (demo) or downloaded (paper). A rule reading the clips
# declares the folder and, with files_under(ESC50_AUDIO), each clip: an edited clip reruns it.
ESC50_META = "data/{scale}/esc50/meta/esc50.csv"
ESC50_AUDIO = "data/{scale}/esc50/audio"
ESC50_METHODS = ("piq", "l2i", "amt")
# The demo generator's arguments.
ESC50_GENERATOR = ("n_classes", "clips_per_fold", "sample_rate", "noise_level", "seed")
# The hyper-parameters of each trainer: its config block less archs and resources.
ESC50_PIQ = (
    "seed",
    "K",
    "shared_keys",
    "number_of_epochs",
    "batch_size",
    "lr",
    "mask_th",
    "rec_loss_coef",
    "overlap_mix",
    "lr_annealing",
)
ESC50_NMF = ("seed", "K", "number_of_epochs", "batch_size", "lr")
ESC50_L2I = (
    "seed",
    "K",
    "number_of_epochs",
    "batch_size",
    "lr",
    "alpha",
    "beta",
    "relevance_th",
    "lr_annealing",
    "k_fidelity",
)
ESC50_PLOT = ("n_clips", "panel_width", "panel_height")


def esc50_hparams(method, keys):
    """The trainer's hyper-parameters for the job's classifier: the `<method>` block's `keys`,
    replaced by its `<method>.<arch>` block where the recipe has a hparams file per backbone."""

    def hparams(wildcards):
        own = setting("esc50", method)(wildcards).get(wildcards.arch, {})
        return {**setting("esc50", method, keys=keys)(wildcards), **own}

    return hparams


def esc50_classifier(wildcards):
    """The hyper-parameters of the job's classifier: `classify.<arch>`."""
    return setting("esc50", "classify", wildcards.arch)(wildcards)


def esc50_mask_augment(wildcards):
    """The classifier's own `mask_augment` where its block sets one, else the classify block's."""
    own = esc50_classifier(wildcards).get("mask_augment")
    return setting("esc50", "classify", "mask_augment")(wildcards) if own is None else own


def esc50_folds(wildcards):
    """Train, validation and test folds of the recipe (recorded with every trained model)."""
    cfg = setting("esc50", "classify", keys=("train_folds", "valid_folds", "test_folds"))(wildcards)
    return {"train": cfg["train_folds"], "valid": cfg["valid_folds"], "test": cfg["test_folds"]}


def esc50_classifier_inputs(wildcards):
    """The data (the audio folder and, once it exists, each of its files), and with test_only
    the SpeechBrain checkpoints of the classifier to import."""
    inputs = {"meta": ESC50_META, "audio": ESC50_AUDIO, "audio_files": files_under(ESC50_AUDIO)(wildcards)}
    cfg = setting("esc50", "classify", keys=("test_only", "pretrained_dir"))(wildcards)
    if cfg["test_only"]:
        inputs["embedding_ckpt"] = f"{cfg['pretrained_dir']}/{wildcards.arch}/embedding_model.ckpt"
        inputs["classifier_ckpt"] = f"{cfg['pretrained_dir']}/{wildcards.arch}/classifier.ckpt"
    else:
        pretrained = esc50_pretrained(wildcards)
        if pretrained is not None and Path(pretrained).is_file():
            # tracked once placed; a missing file stops the job with the path and its source
            inputs["pretrained"] = pretrained
    return inputs


def esc50_pretrained(wildcards):
    """The encoder weights the job's classifier starts from (`use_pretrained`), else None."""
    cfg = esc50_classifier(wildcards)
    return cfg["embedding_model_path"] if cfg["use_pretrained"] else None


def esc50_interpreter_inputs(wildcards):
    """The test clips, classifier, interpreter weights (PIQ, L2I) and NMF dictionary (L2I) of one interpretation."""
    inputs = {
        "meta": ESC50_META,
        "audio": ESC50_AUDIO,
        "audio_files": files_under(ESC50_AUDIO)(wildcards),
        "classifier": rules.esc50_train_classifier.output.model,
    }
    if wildcards.method == "piq":
        inputs["model"] = rules.esc50_train_piq.output.model
    if wildcards.method == "l2i":
        inputs["model"] = rules.esc50_train_l2i.output.model
        inputs["nmf"] = rules.esc50_train_nmf.output.model
    return inputs


def esc50_interpretations(scale):
    """(method, arch) pairs of the interpretation table at one scale."""
    return [(m, a) for m in ESC50_METHODS for a in setting("esc50", m, "archs", scale=scale)]


def esc50_has_overlap(scale):
    """The overlap test runs PIQ on conv2d: only where PIQ interprets conv2d."""
    return "conv2d" in setting("esc50", "piq", "archs", scale=scale)


# Per-run wildcard values, for per_run().
def esc50_classifier_runs(wildcards):
    return [{"arch": a} for a in setting("esc50", "classify", "archs")(wildcards)]


def esc50_interpretation_runs(wildcards):
    return [{"method": m, "arch": a} for m, a in esc50_interpretations(wildcards.scale)]


def esc50_claimed_runs(wildcards):
    """The interpreters claims are made for (the README table's: PIQ, AMT; L2I is in the table only)."""
    return [{"method": m, "arch": a} for m, a in esc50_interpretations(wildcards.scale) if m in CLAIMED_METHODS]


def esc50_overlap_runs(wildcards):
    return [{}] if esc50_has_overlap(wildcards.scale) else []


# Targets.
def esc50_classify_targets(scale):
    base = f"results/{scale}/esc50"
    return [f"{base}/accuracy_table.csv"] + [
        f"{base}/classifier/{a}.json" for a in setting("esc50", "classify", "archs", scale=scale)
    ]


def esc50_method_targets(scale, method):
    base = f"results/{scale}/esc50"
    return [
        path
        for m, a in esc50_interpretations(scale)
        if m == method
        for path in (f"{base}/interpretations/{m}_{a}.csv", f"{base}/fig_clips_{m}_{a}.png", f"{base}/audio/{m}_{a}")
    ]


def esc50_overlap_targets(scale):
    base = f"results/{scale}/esc50"
    return [f"{base}/overlap.csv", f"{base}/fig_overlap.png"] if esc50_has_overlap(scale) else []


def esc50_targets(scale):
    base = f"results/{scale}/esc50"
    targets = esc50_classify_targets(scale) + [f"{base}/interpretation_table.csv", f"{base}/claims.csv"]
    for method in ESC50_METHODS:
        targets += esc50_method_targets(scale, method)
    return targets + esc50_overlap_targets(scale)
