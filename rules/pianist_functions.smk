# Input functions and targets of the pianist rules (kept apart from the rules, as the
# Snakemake linter asks). Every config value is read through setting() (rules/common.smk).

PIANIST_MODELS = ("resnet", "disentangle")
# The piano-roll settings of every rule that builds rolls.
PN_ROLL = ("fps", "clip_seconds", "min_duration", "harmony_window")
# The demo generator's arguments.
PN_DEMO = (
    "performers",
    "concepts",
    "tracks_per_performer",
    "n_validation",
    "n_test",
    "clips_per_track",
    "clip_seconds",
    "pad_seconds",
    "chord_seconds",
    "root_range",
    "seed",
    "dataset",
    "concept_files",
)
PN_TRAIN = ("arch", "epochs", "batch_size", "optimizer", "lr", "momentum", "weight_decay", "scheduler", "seed")
PN_LIME = (
    "splits",
    "num_samples",
    "num_features",
    "top_labels",
    "batch_size",
    "kernel_width",
    "hide_color",
    "distance_metric",
    "seed",
    "segmentation",
    "feature_selection",
    "sounding_only",
    "control_segmentation",
)
PN_CAV = (
    "n_cavs",
    "n_experiments",
    "n_random_clips",
    "random_cavs",
    "positive_fraction",
    "solver",
    "transpositions",
    "n_inversions",
    "hands",
    "stretch",
    "harmony_filter",
    "seed",
)
PN_ATTRIBUTION = ("splits", "attribution_fn", "multiply_by_inputs", "ig_steps", "batch_size", "seed")
PN_HEATMAP = ("kernel", "batch_size", "attribution_fn", "multiply_by_inputs", "ig_steps", "seed")


# Where both classifiers come from (`weights`, docs/published-weights.md): trained by
# pianist_train_model, or the original's checkpoints (Zenodo 14774191) fetched by
# pianist_download_published and loaded into our classes by pianist_evaluate_published under
# results/<scale>/pianist/published/, with no training job in the plan.
PN_WEIGHTS = setting("pianist", "weights", scale=SCALE)
if PN_WEIGHTS == "published" and SCALE != "paper":
    raise ConfigError(
        "config: pianist.weights: published needs --config scale=paper (the original publishes its "
        "paper-size ResNet-50 and DisentangleNet only; docs/published-weights.md); the demo trains its own "
        "(weights: trained)"
    )
PN_MODELS = "results/{scale}/pianist/" + ("published/" if PN_WEIGHTS == "published" else "")


def pn_model(kind):
    """The weights file of `kind` that the attribution rules read (trained or published)."""
    path = PN_MODELS + ("{model}.pt" if PN_WEIGHTS == "published" else "models/{model}.pt")
    return path.replace("{model}", kind)


def pn_accuracy(kind, table="accuracy"):
    """The accuracy (or confusion) table of `kind`, `{scale}` left open."""
    return f"{PN_MODELS}{table}_{kind}.csv"


def pn_published(wildcards):
    """The published checkpoint of the job's model: its member path, the folder named in
    `published.paper.dir` (or None: the archive) and its pinned sha256 (or None)."""
    cfg = setting("pianist", "published", scale="paper")
    return {"member": cfg["members"][wildcards.model], "dir": cfg["dir"], "sha256": cfg["sha256"][wildcards.model]}


def pn_published_source(wildcards):
    """The published checkpoint's source: the file in the named folder, else the archive."""
    cfg = pn_published(wildcards)
    if cfg["dir"] is not None:
        return {"source": str(Path(cfg["dir"]) / cfg["member"])}
    return {
        "archive": rules.pianist_download_archive.output.archive,
        "checksum": rules.pianist_download_archive.output.checksum,
    }


def pn_evaluation(wildcards):
    """What evaluating a published model needs of its part: architecture, batch size, seed."""
    return setting("pianist", "{model}", keys=("arch", "batch_size", "seed"))(wildcards)


def pn_train(wildcards):
    """Training hyper-parameters of the job's model; `augment` is the trainer's `augmentation`."""
    cfg = setting("pianist", "{model}", keys=(*PN_TRAIN, "augment"))(wildcards)
    return {key: cfg[key] for key in PN_TRAIN} | {"augmentation": cfg["augment"]}


def pn_cav(wildcards):
    """CAV fitting: the tcav keys, in batches of at least 64 clips (activations only)."""
    cfg = setting("pianist", "tcav", keys=(*PN_CAV, "batch_size"))(wildcards)
    return cfg | {"batch_size": max(cfg["batch_size"], 64)}


def pn_heatmap_clips(scale):
    """The clips to map: sensitivity_heatmap_clips, or the default clip only when it is empty."""
    cfg = setting("pianist", "tcav", scale=scale)
    return list(cfg["sensitivity_heatmap_clips"]) or [cfg["default_heatmap_clip"]]


def pn_heatmap(wildcards):
    return setting("pianist", "tcav", keys=PN_HEATMAP)(wildcards) | {"clips": pn_heatmap_clips(wildcards.scale)}


def pn_user_data_path():
    return setting("pianist", "user_data", "path", scale="demo")


def pn_user_data_files(wildcards):
    """The user's folder's files (an edited clip reruns the conversion); none when the key
    is null or the folder is missing (the data rule then says so)."""
    path = pn_user_data_path()
    if path is None or not Path(path).is_dir():
        return []
    return sorted(str(p) for p in Path(path).rglob("*") if p.is_file())


def pn_user_data(wildcards):
    """The user-data conversion's arguments, or None for the demo generator. The config keys
    naming clips travel with it so that a name the data lack stops before any training."""
    cfg = setting("pianist", "user_data", scale="demo")
    if cfg["path"] is None:
        return None
    data = setting("pianist", "data", scale="demo")
    tcav = setting("pianist", "tcav", scale="demo")
    key = (
        "pianist.tcav.sensitivity_heatmap_clips"
        if tcav["sensitivity_heatmap_clips"]
        else "pianist.tcav.demo.default_heatmap_clip"
    )
    return {
        "path": str(cfg["path"]),
        "splits": cfg["splits"],
        "n_validation": data["n_validation"],
        "n_test": data["n_test"],
        "min_duration": data["min_duration"],
        "config_clips": {key: pn_heatmap_clips("demo")},
    }


def pn_claims_inputs(wildcards):
    """Claims read the per-experiment sign counts, the CAVs and both models' accuracies; the
    demo also its truth and the LIME explanations (their note coverage and its control)."""
    inputs = {
        "sign_counts": rules.pianist_compute_sensitivities.output.sign_counts.format(**wildcards),
        "cavs": rules.pianist_compute_cavs.output.cavs.format(**wildcards),
        "accuracy": [pn_accuracy(m).format(**wildcards) for m in PIANIST_MODELS],
    }
    if wildcards.scale == "demo":
        inputs["truth"] = rules.pianist_generate_data.output.truth
        inputs["explanations"] = rules.pianist_compute_lime.output.explanations.format(**wildcards)
    return inputs


def pianist_lime_targets(scale):
    return [f"results/{scale}/pianist/lime/figures"]


def pianist_tcav_targets(scale):
    base = f"results/{scale}/pianist"
    return [
        f"{base}/tcav_sign_counts.csv",
        f"{base}/fig_tcav_sign_counts.png",
        f"{base}/concept_correlation.csv",
        f"{base}/fig_concept_correlation.png",
        f"{base}/performer_correlation.csv",
        f"{base}/fig_performer_correlation.png",
        f"{base}/tcav/sensitivities.json",
        f"{base}/kernel_heatmaps",
    ]


def pianist_targets(scale):
    if scale == "paper" and pn_user_data_path() is not None:
        raise ConfigError(
            "config: pianist.user_data.path is set, but a user's data run at demo scale only "
            "(docs/your-data/pianist.md); drop scale=paper"
        )
    base = f"results/{scale}/pianist"
    return (
        pianist_lime_targets(scale)
        + pianist_tcav_targets(scale)
        + [pn_accuracy(m).format(scale=scale) for m in PIANIST_MODELS]
        + [pn_accuracy(m, "confusion").format(scale=scale) for m in PIANIST_MODELS]
        + [f"{base}/claims.csv"]
    )
