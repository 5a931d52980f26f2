# Input functions, runs and targets of the interactive rules (kept apart from the rules, as
# the Snakemake linter asks). Every config value is read through setting() (rules/common.smk).

# The data each dataset's classifiers read, in the originals' layouts: drawn at demo scale,
# extracted at paper scale (so the rule that writes them depends on the scale).
IA_DATA = {
    "celeb": {
        "labels": "data/{scale}/celebamask_hq/CelebAMask-HQ-attribute-anno.txt",
        "images": "data/{scale}/celebamask_hq/CelebA-HQ-img",
    },
    "flowers": {"labels": "data/{scale}/flowers102/imagelabels.mat", "images": "data/{scale}/flowers102/jpg"},
}
# The classifiers' names (the original's output folders) and FairFace's two explained outputs.
IA_CLASSIFIER = r"celeb-[A-Za-z0-9_]+|flowers102_c\d+-c\d+"
IA_FAIRFACE = r"fairface-(?:gender|age)"
# Your own classifier's heatmaps (user_data), named as xairepro.interactive.user_data.USER_CLASSIFIER.
IA_USER = "user"
# Generative attributes labelled by FairFace's skin-colour head rather than a CelebA classifier
# (generative_exp.py ff-skin-color; xairepro.interactive.models.FAIRFACE_DIRECTIONS, not
# imported here, which would load torch whenever the workflow is parsed).
IA_FAIRFACE_DIRECTIONS = ("ff-skin-color",)
# The keys each rule reads from its config part.
IA_FACES = ("n_images", "size", "seed")
IA_FLOWERS = ("n_per_class", "size", "seed")
IA_FLOWERS_DOWNLOAD = ("archive_urls", "archive_md5", "labels_urls", "labels_md5")
IA_TRAIN = (
    "size",
    "freeze_epochs",
    "unfreeze_epochs",
    "bs",
    "lr",
    "ratio",
    "split_seed",
    "imagenet_weights",
    "flowers_pad",
    "flowers_crop_ratio",
    "flowers_augment",
    "blur_augment",
    "seed",
)
IA_SPLIT = ("size", "split_seed", "ratio")
IA_HEATMAPS = (
    "n_imgs",
    "methods",
    "n_steps",
    "nt_samples",
    "nt_type",
    "internal_batch_size",
    "nt_samples_batch_size",
    "outlier_perc",
    "seed",
)
IA_FAIRFACE_KEYS = ("fairface_img_dir",)
IA_GENERATOR = ("img_resolution", "z_dim", "channels", "epochs", "batch_size", "lr", "latent_noise", "seed")
IA_PICKLE = ("stylegan2_code", "allow_generator_pickle")
IA_PHASE1 = ("attrs", "n_train", "n_valid", "psi", "gen_bs", "seed")
IA_PHASE2 = ("epochs", "batch_size", "lr", "seed")
IA_PHASE3 = (
    "n_input_imgs",
    "input_img_dir",
    "reconstruction_steps",
    "initial_learning_rate",
    "projection_loss",
    "ampl",
    "steps",
    "seed",
)
IA_HEATMAP_PLOT = ("cmap", "interp", "panel_inches", "dpi", "zero_maps_as_ones")
IA_CANVAS_PLOT = ("canvas_hw", "canvas_dpi", "canvas_rows", "score_mult")


def ia_published(scale):
    """True when the models are the originals' published files (interactive.weights), which
    exist for the paper's data only: published at demo scale stops here."""
    if setting("interactive", "weights", scale=SCALE) != "published":
        return False
    if scale != "paper":
        raise ConfigError(
            "config: interactive.weights: published needs scale=paper (the originals' models were trained "
            "on CelebA-HQ, not on the demo's drawn faces); the demo runs with interactive.weights: trained"
        )
    return True


def ia_published_classifiers():
    """Our name -> file settings of every published classifier (paper scale)."""
    return setting("interactive", "published", "classifiers", scale="paper")


def ia_classifiers(scale):
    """Every classifier of the scale, named as the original's output folders: the configured
    attributes and flower pairs, or (weights: published) the classifiers the originals publish."""
    if ia_published(scale):
        return list(ia_published_classifiers())
    cfg = setting("interactive", "train", keys=("attrs", "flower_pairs"), scale=scale)
    names = [f"celeb-{attr}" for attr in cfg["attrs"]]
    for pair in cfg["flower_pairs"]:
        c1, c2 = pair.split("-")
        names.append(f"flowers102_c{int(c1)}-c{int(c2)}")
    return names


def ia_dataset(classifier):
    return "celeb" if classifier.startswith("celeb-") else "flowers"


def ia_classifier_data(wildcards):
    """The data files one classifier learns from: annotation/label file, image folder, and
    every image in it (so an edited image re-runs the classifier's jobs)."""
    data = {key: path.format(scale=wildcards.scale) for key, path in IA_DATA[ia_dataset(wildcards.classifier)].items()}
    return data | {"image_files": files_under(data["images"])(wildcards)}


def ia_regions(wildcards):
    """Demo only: the planted regions of the classifier's images (none at paper scale)."""
    if wildcards.scale != "demo":
        return []
    if ia_dataset(wildcards.classifier) == "celeb":
        return rules.interactive_generate_faces.output.regions
    return rules.interactive_generate_flowers.output.regions


def ia_control_methods(wildcards):
    """The heatmap methods claimed to find the planted region on the classifier's dataset:
    their maps are computed on randomised copies too (the claims' controls)."""
    return setting("interactive", "claims", "mass_methods")(wildcards)[ia_dataset(wildcards.classifier)]


def ia_fairface_images(wildcards):
    """The images FairFace's heatmaps explain: the configured folder (and its files), or
    the CelebA data whose validation faces stand in for it."""
    img_dir = setting("interactive", "heatmaps", "fairface_img_dir")(wildcards)
    if img_dir is None:
        data = {key: path.format(scale=wildcards.scale) for key, path in IA_DATA["celeb"].items()}
    else:
        data = {"images": img_dir}
    return data | {"image_files": files_under(data["images"])(wildcards)}


def ia_generator(wildcards):
    """The generator: the demo's own, or the user-provided StyleGAN2-ADA pickle (paper)."""
    if wildcards.scale == "demo":
        return rules.interactive_train_generator.output.model.format(scale="demo")
    if ia_published(wildcards.scale):
        return setting("interactive", "published", "generator", scale="paper")
    return setting("interactive", "generator", "generator_path", scale="paper")


def ia_classifier_model(wildcards):
    """The weights of one classifier: trained here, or the originals' published file."""
    return ia_model_file(wildcards.classifier, wildcards.scale)


def ia_model_file(classifier, scale):
    """The weights file of a classifier by name (see ia_classifier_model)."""
    if ia_published(scale):
        return rules.interactive_download_published.output.weights.format(classifier=classifier)
    return rules.interactive_train_classifier.output.model.format(scale=scale, classifier=classifier)


def ia_published_source(wildcards):
    """Mirrors, checksums and the user's folder of one published classifier."""
    cfg = ia_published_classifiers()[wildcards.classifier]
    folder = setting("interactive", "published", "dir", scale="paper")
    return {**cfg, "dir": folder}


def ia_generative_attrs(scale, key="attrs"):
    """The generative attributes (``attrs``) or evaluated classifiers (``eval_attrs``); with
    weights: published only those a published model scores (FairFace's heads included)."""
    attrs = setting("interactive", "generative", key, scale=scale)
    if not ia_published(scale):
        return attrs
    kept = [a for a in attrs if a in IA_FAIRFACE_DIRECTIONS or f"celeb-{a}" in ia_published_classifiers()]
    if not kept:
        raise ConfigError(
            f"config: interactive.generative.{key} {attrs} has no attribute a published model scores "
            f"(published: {list(ia_published_classifiers())}, {list(IA_FAIRFACE_DIRECTIONS)})"
        )
    return kept


def ia_phase1(wildcards):
    """Phase 1's settings, its attributes those of ia_generative_attrs."""
    cfg = setting("interactive", "generative", keys=IA_PHASE1)(wildcards)
    return cfg | {"attrs": ia_generative_attrs(wildcards.scale)}


def ia_imagenet_weights(wildcards):
    """torchvision's ImageNet ResNet-18 file when the classifiers start from it (paper)."""
    if not setting("interactive", "train", "imagenet_weights")(wildcards):
        return []
    return rules.interactive_download_pretrained.output.weights.format(net="resnet18")


def ia_vgg16_weights(wildcards):
    """torchvision's ImageNet VGG16 file when the projection compares VGG16 features (paper)."""
    if setting("interactive", "generative", "projection_loss")(wildcards) != "vgg16":
        return []
    return rules.interactive_download_pretrained.output.weights.format(net="vgg16")


def ia_pretrained_source(wildcards):
    """Mirrors and sha256 (or its torchvision prefix) of one pretrained network's file."""
    part, prefix = {"resnet18": ("train", "imagenet"), "vgg16": ("generative", "vgg16")}[wildcards.net]
    cfg = setting("interactive", part, keys=(f"{prefix}_urls", f"{prefix}_sha256"), scale="paper")
    return {"urls": cfg[f"{prefix}_urls"], "sha256": cfg[f"{prefix}_sha256"]}


def ia_phase3_attrs(wildcards):
    """The classifiers of phase 3: every direction's attribute, then the evaluated one."""
    attrs = ia_generative_attrs(wildcards.scale)
    return attrs + [wildcards.eval_attr] * (wildcards.eval_attr not in attrs)


def ia_phase3_names(wildcards):
    """The attribute of each phase-3 input: its classifiers and its latent models (directions)."""
    attrs = ia_generative_attrs(wildcards.scale)
    return {"classifiers": ia_phase3_attrs(wildcards), "latent": attrs}


def ia_attr_model(attr, scale):
    """The model that scores one generative attribute: its CelebA classifier, or FairFace's
    user-provided weights for ff-skin-color (the original's load_celeb)."""
    if attr in IA_FAIRFACE_DIRECTIONS:
        return rules.interactive_place_fairface.output.weights
    return ia_model_file(f"celeb-{attr}", scale)


def ia_direction_classifiers(wildcards):
    """The models labelling phase 1's codes, one per generative attribute."""
    attrs = ia_generative_attrs(wildcards.scale)
    return [ia_attr_model(attr, wildcards.scale) for attr in attrs]


def ia_phase3_classifiers(wildcards):
    """The models scoring phase 3's frames, in the order of ia_phase3_attrs."""
    return [ia_attr_model(attr, wildcards.scale) for attr in ia_phase3_attrs(wildcards)]


# Runs for per_run(): the wildcard values of each file a job gathers.
def ia_user_data(scale):
    """True when user_data.path names a folder: only your classifier's heatmaps then run."""
    return setting("interactive", "user_data", "path", scale=scale) is not None


def ia_user_inputs(wildcards):
    """Your images (and each file, so an edited image re-runs) and checkpoint, where they exist;
    a missing one is reported by the rule's own check, with the layout."""
    cfg = setting("interactive", "user_data", keys=("path", "checkpoint"))(wildcards)
    inputs = {}
    if cfg["path"] is not None and Path(cfg["path"]).is_dir():
        inputs |= {"images": cfg["path"], "image_files": files_under(cfg["path"])(wildcards)}
    if cfg["checkpoint"] is not None and Path(cfg["checkpoint"]).is_file():
        inputs["checkpoint"] = cfg["checkpoint"]
    return inputs


def ia_claims_input(key):
    """One input of claims.csv: with user_data only `user` (your classifier's heatmap table),
    else every classifier's `validation` and `heatmaps`, the phase-3 `moves` and the
    `latent_record`; the others are empty."""

    def inputs(wildcards):
        scale = wildcards.scale
        if ia_user_data(scale):
            return f"results/{scale}/interactive/heatmaps/{IA_USER}.csv" if key == "user" else []
        if key == "validation":
            return per_run(rules.interactive_compute_heatmaps.output.validation, ia_classifier_runs)(wildcards)
        if key == "heatmaps":
            return per_run(rules.interactive_compute_heatmaps.output.table, ia_classifier_runs)(wildcards)
        if key == "moves":
            return per_run(rules.interactive_explain_generative.output.scores, ia_eval_attr_runs)(wildcards)
        if key == "latent_record":
            return rules.interactive_create_latent_dataset.output.record.format(scale=scale)
        return []

    return inputs


def ia_classifier_runs(wildcards):
    return [{"classifier": name} for name in ia_classifiers(wildcards.scale)]


def ia_attr_runs(wildcards):
    return [{"attr": attr} for attr in ia_generative_attrs(wildcards.scale)]


def ia_eval_attr_runs(wildcards):
    return [{"eval_attr": attr} for attr in ia_generative_attrs(wildcards.scale, "eval_attrs")]


def interactive_train_targets(scale):
    """The trained classifiers and their table; none with weights: published."""
    base = f"results/{scale}/interactive"
    if ia_published(scale):
        return []
    return [f"{base}/classifiers/{c}.pt" for c in ia_classifiers(scale)] + [f"{base}/classifiers.csv"]


def interactive_heatmap_targets(scale):
    base = f"results/{scale}/interactive"
    if ia_user_data(scale):
        return [f"{base}/fig_heatmaps_{IA_USER}.png", f"{base}/heatmaps/{IA_USER}.csv"]
    fairface = [f"fairface-{a}" for a in setting("interactive", "heatmaps", "fairface_attrs", scale=scale)]
    return [f"{base}/fig_heatmaps_{c}.png" for c in ia_classifiers(scale) + fairface] + [f"{base}/heatmaps.csv"]


def interactive_generative_targets(scale):
    base = f"results/{scale}/interactive"
    evals = ia_generative_attrs(scale, "eval_attrs")
    return [f"{base}/latent_models.csv", f"{base}/generative.csv"] + [f"{base}/fig_canvases_{a}" for a in evals]


def interactive_targets(scale):
    if ia_user_data(scale):  # no labels to train on, no generator: the heatmaps and their claims
        return interactive_heatmap_targets(scale) + [f"results/{scale}/interactive/claims.csv"]
    return (
        interactive_train_targets(scale)
        + interactive_heatmap_targets(scale)
        + interactive_generative_targets(scale)
        + [f"results/{scale}/interactive/claims.csv"]
    )
