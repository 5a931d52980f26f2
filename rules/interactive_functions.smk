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


def ia_classifiers(scale):
    """Every classifier of the scale, named as the original's output folders."""
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
    return setting("interactive", "generator", "generator_path", scale="paper")


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
    attrs = setting("interactive", "generative", "attrs")(wildcards)
    return attrs + [wildcards.eval_attr] * (wildcards.eval_attr not in attrs)


def ia_phase3_names(wildcards):
    """The attribute of each phase-3 input: its classifiers and its latent models (directions)."""
    attrs = setting("interactive", "generative", "attrs")(wildcards)
    return {"classifiers": ia_phase3_attrs(wildcards), "latent": attrs}


def ia_attr_model(attr, scale):
    """The model that scores one generative attribute: its CelebA classifier, or FairFace's
    user-provided weights for ff-skin-color (the original's load_celeb)."""
    if attr in IA_FAIRFACE_DIRECTIONS:
        return rules.interactive_place_fairface.output.weights
    return rules.interactive_train_classifier.output.model.format(scale=scale, classifier=f"celeb-{attr}")


def ia_direction_classifiers(wildcards):
    """The models labelling phase 1's codes, one per generative attribute."""
    attrs = setting("interactive", "generative", "attrs")(wildcards)
    return [ia_attr_model(attr, wildcards.scale) for attr in attrs]


def ia_phase3_classifiers(wildcards):
    """The models scoring phase 3's frames, in the order of ia_phase3_attrs."""
    return [ia_attr_model(attr, wildcards.scale) for attr in ia_phase3_attrs(wildcards)]


# Runs for per_run(): the wildcard values of each file a job gathers.
def ia_classifier_runs(wildcards):
    return [{"classifier": name} for name in ia_classifiers(wildcards.scale)]


def ia_attr_runs(wildcards):
    return [{"attr": attr} for attr in setting("interactive", "generative", "attrs")(wildcards)]


def ia_eval_attr_runs(wildcards):
    return [{"eval_attr": attr} for attr in setting("interactive", "generative", "eval_attrs")(wildcards)]


def interactive_train_targets(scale):
    base = f"results/{scale}/interactive"
    return [f"{base}/classifiers/{c}.pt" for c in ia_classifiers(scale)] + [f"{base}/classifiers.csv"]


def interactive_heatmap_targets(scale):
    base = f"results/{scale}/interactive"
    fairface = [f"fairface-{a}" for a in setting("interactive", "heatmaps", "fairface_attrs", scale=scale)]
    return [f"{base}/fig_heatmaps_{c}.png" for c in ia_classifiers(scale) + fairface] + [f"{base}/heatmaps.csv"]


def interactive_generative_targets(scale):
    base = f"results/{scale}/interactive"
    evals = setting("interactive", "generative", "eval_attrs", scale=scale)
    return [f"{base}/latent_models.csv", f"{base}/generative.csv"] + [f"{base}/fig_canvases_{a}" for a in evals]


def interactive_targets(scale):
    return (
        interactive_train_targets(scale)
        + interactive_heatmap_targets(scale)
        + interactive_generative_targets(scale)
        + [f"results/{scale}/interactive/claims.csv"]
    )
