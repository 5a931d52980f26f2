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


def pn_claims_inputs(wildcards):
    """Claims read the per-experiment sign counts, the CAVs and both models' accuracies; the
    demo also its truth and the LIME explanations (their note coverage and its control)."""
    inputs = {
        "sign_counts": rules.pianist_compute_sensitivities.output.sign_counts.format(**wildcards),
        "cavs": rules.pianist_compute_cavs.output.cavs.format(**wildcards),
        "accuracy": expand(rules.pianist_train_model.output.accuracy, model=PIANIST_MODELS, **wildcards),
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
    base = f"results/{scale}/pianist"
    return (
        pianist_lime_targets(scale)
        + pianist_tcav_targets(scale)
        + [f"{base}/accuracy_{m}.csv" for m in PIANIST_MODELS]
        + [f"{base}/confusion_{m}.csv" for m in PIANIST_MODELS]
        + [f"{base}/claims.csv"]
    )
