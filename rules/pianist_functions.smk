# Input functions and targets of the pianist rules (kept apart from the rules, as the
# Snakemake linter asks).

PIANIST_MODELS = ("resnet", "disentangle")


def pn_cfg(part):
    """Input function factory: the config block of a pianist part at the job's scale."""
    return lambda wildcards: study_cfg("pianist", part, wildcards.scale)


def pn_roll(wildcards):
    """The piano-roll settings every rule that builds rolls needs."""
    data = study_cfg("pianist", "data", wildcards.scale)
    return {key: data[key] for key in ("fps", "clip_seconds", "min_duration", "harmony_window")}


def pn_train(wildcards):
    """Training hyper-parameters of the job's model (resnet or disentangle)."""
    cfg = study_cfg("pianist", wildcards.model, wildcards.scale)
    keys = ("arch", "epochs", "batch_size", "optimizer", "lr", "momentum", "weight_decay", "scheduler", "seed")
    return {**{key: cfg[key] for key in keys}, "augmentation": cfg["augment"]}


def pn_demo(wildcards=None):
    """The demo generator's arguments."""
    cfg = study_cfg("pianist", "data", "demo")
    keys = ("performers", "concepts", "tracks_per_performer", "n_validation", "n_test", "clips_per_track",
            "clip_seconds", "pad_seconds", "chord_seconds", "root_range", "seed", "dataset")
    return {key: cfg[key] for key in keys} | {"concept_files": cfg["concept_files"]}


def pn_lime(wildcards):
    cfg = study_cfg("pianist", "lime", wildcards.scale)
    keys = ("splits", "num_samples", "num_features", "top_labels", "batch_size", "kernel_width", "hide_color",
            "distance_metric", "random_state")
    return {key: cfg[key] for key in keys}


def pn_cav(wildcards):
    cfg = study_cfg("pianist", "tcav", wildcards.scale)
    keys = ("n_cavs", "n_experiments", "n_random_clips", "positive_fraction", "transpositions", "n_inversions",
            "seed")
    return {key: cfg[key] for key in keys} | {"batch_size": max(cfg["batch_size"], 64)}


def pn_attribution(wildcards):
    cfg = study_cfg("pianist", "tcav", wildcards.scale)
    keys = ("splits", "attribution_fn", "multiply_by_inputs", "ig_steps", "batch_size", "seed")
    return {key: cfg[key] for key in keys}


def pn_heatmap_clips(scale):
    """The clips to map: sensitivity_heatmap_clips, or the default clip only when it is empty."""
    cfg = study_cfg("pianist", "tcav", scale)
    return list(cfg["sensitivity_heatmap_clips"]) or [cfg["default_heatmap_clip"]]


def pn_heatmap(wildcards):
    cfg = study_cfg("pianist", "tcav", wildcards.scale)
    keys = ("kernel", "batch_size", "attribution_fn", "multiply_by_inputs", "seed")
    return {key: cfg[key] for key in keys} | {"clips": pn_heatmap_clips(wildcards.scale)}


def pn_claims_inputs(wildcards):
    """Claims read the TCAV summary and both models' accuracies; the demo also its truth."""
    base = f"results/{wildcards.scale}/pianist"
    inputs = {
        "summary": f"{base}/tcav_sign_counts.csv",
        "accuracy": [f"{base}/accuracy_{model}.csv" for model in PIANIST_MODELS],
    }
    if wildcards.scale == "demo":
        inputs["truth"] = "data/demo/pianist/truth.json"
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
