# Input functions and targets of the esc50 rules (kept apart from the rules, as the
# Snakemake linter asks). Every config value is read through setting() (rules/common.smk).

from xairepro.esc50.tables import CLAIMED_METHODS

# The ESC-50-format folder, generated (demo) or downloaded (paper), or with user_data.path set
# the user's own folder as esc50_import_user_data copies it in. A rule reading the clips
# declares the folder and, with files_under(ESC50_AUDIO), each clip: an edited clip reruns it.
ESC50_USER_DATA = setting("esc50", "user_data", "path", scale=SCALE)
ESC50_META = (
    "data/{scale}/esc50/meta/esc50.csv" if ESC50_USER_DATA is None else "data/{scale}/esc50_user/meta/esc50.csv"
)
ESC50_AUDIO = "data/{scale}/esc50/audio" if ESC50_USER_DATA is None else "data/{scale}/esc50_user/audio"
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


def esc50_user_files(wildcards):
    """The user's meta/esc50.csv once it exists (an edited table re-imports); a missing one is
    reported by the import's own check, with the layout."""
    meta = Path(str(setting("esc50", "user_data", "path")(wildcards))) / "meta" / "esc50.csv"
    return {"user_meta": str(meta)} if meta.is_file() else {}


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
    """The test clips, classifier, interpreter weights (PIQ, L2I) and NMF dictionary (L2I) of
    one interpretation: trained, or imported from the published files (ESC50_MODELS)."""
    inputs = {
        "meta": ESC50_META,
        "audio": ESC50_AUDIO,
        "audio_files": files_under(ESC50_AUDIO)(wildcards),
        "classifier": ESC50_CLASSIFIER,
    }
    if wildcards.method in ("piq", "l2i"):
        inputs["model"] = esc50_model(wildcards.method)
    if wildcards.method == "l2i":
        inputs["nmf"] = esc50_model("nmf")
    return inputs


# Where the models come from (`weights`, docs/published-weights.md): trained by the rules
# above, or the recipes' published files, fetched to ESC50_PUBLISHED by
# esc50_download_published and imported under results/<scale>/esc50/published/ by
# esc50_import_classifier / esc50_import_interpreter, with no training rule in the plan.
ESC50_WEIGHTS = setting("esc50", "weights", scale=SCALE)
if ESC50_WEIGHTS == "published" and SCALE != "paper":
    raise ConfigError(
        "config: esc50.weights: published needs --config scale=paper (the recipes publish paper-size "
        "models only; docs/published-weights.md); the demo trains its own (weights: trained)"
    )
ESC50_MODELS = "results/{scale}/esc50/published" if ESC50_WEIGHTS == "published" else "results/{scale}/esc50"
ESC50_PUBLISHED = "data/{scale}/esc50/published/{item}.ckpt"


def esc50_model(kind, arch="{arch}", suffix="pt"):
    """The path of a classifier/PIQ/L2I/NMF model (or a classifier's json record) that the
    interpretation rules read: trained or imported (ESC50_MODELS); `{scale}` left open."""
    return f"{ESC50_MODELS}/{kind}/{arch}.{suffix}"


ESC50_CLASSIFIER = esc50_model("classifier")


def esc50_published(item):
    """The path of one published file (`published.paper.files.<item>`), `{scale}` left open."""
    return ESC50_PUBLISHED.replace("{item}", item)


def esc50_published_source(wildcards):
    """url and checksum of the job's published file, and the user's folder (`published.dir`)."""
    block = setting("esc50", "published", "paper", scale="paper")
    if wildcards.item not in block["files"]:
        raise ConfigError(f"config: 'esc50.published.paper.files' has no file '{wildcards.item}'")
    return {**block["files"][wildcards.item], "dir": block["dir"]}


def esc50_import_classifier_inputs(wildcards):
    """The data (for the accuracy on the validation and test folds) and the classifier's two published files."""
    return {
        "meta": ESC50_META,
        "audio": ESC50_AUDIO,
        "audio_files": files_under(ESC50_AUDIO)(wildcards),
        "embedding": esc50_published(f"{wildcards.arch}_embedding"),
        "head": esc50_published(f"{wildcards.arch}_classifier"),
    }


def esc50_import_interpreter_inputs(wildcards):
    """The published files of one interpreter model and, but for NMF, the classifier it decodes."""
    arch = wildcards.arch
    if wildcards.kind == "nmf":
        return {"nmf": esc50_published("nmf")}
    if wildcards.kind == "piq":
        return {"classifier": ESC50_CLASSIFIER, "psi": esc50_published(f"{arch}_piq")}
    return {
        "classifier": ESC50_CLASSIFIER,
        "psi": esc50_published(f"{arch}_l2i_psi"),
        "theta": esc50_published(f"{arch}_l2i_theta"),
    }


def esc50_import_hparams(wildcards):
    """The interpreter's config block (what its decoder is built from), as the trainer's."""
    if wildcards.kind == "piq":
        return esc50_hparams("piq", ESC50_PIQ)(wildcards)
    if wildcards.kind == "l2i":
        return esc50_hparams("l2i", ESC50_L2I)(wildcards)
    return {}


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
    models = ESC50_MODELS.format(scale=scale)
    return [f"{base}/accuracy_table.csv"] + [
        f"{models}/classifier/{a}.json" for a in setting("esc50", "classify", "archs", scale=scale)
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
