# Input functions and targets of the interactive rules (kept apart from the rules, as the
# Snakemake linter asks).


def ia_cfg(part):
    """Input/params function: the interactive config block ``part`` at the job's scale."""
    return lambda wildcards: study_cfg("interactive", part, wildcards.scale)


def ia_classifiers(scale):
    """Every classifier of the scale, named as the original's output folders."""
    cfg = study_cfg("interactive", "train", scale)
    names = [f"celeb-{attr}" for attr in cfg["attrs"]]
    for pair in cfg["flower_pairs"]:
        c1, c2 = pair.split("-")
        names.append(f"flowers102_c{int(c1)}-c{int(c2)}")
    return names


def ia_dataset_root(scale, classifier):
    return f"data/{scale}/celebamask_hq" if classifier.startswith("celeb-") else f"data/{scale}/flowers102"


def ia_classifier_data(wildcards):
    """The data files one classifier is trained on (annotation/label file + image folder)."""
    root = ia_dataset_root(wildcards.scale, wildcards.classifier)
    if wildcards.classifier.startswith("celeb-"):
        return {"labels": f"{root}/CelebAMask-HQ-attribute-anno.txt", "images": f"{root}/CelebA-HQ-img"}
    return {"labels": f"{root}/imagelabels.mat", "images": f"{root}/jpg"}


def ia_heatmap_inputs(wildcards):
    """Data, the classifier, and (demo only) the planted regions of its images."""
    inputs = dict(ia_classifier_data(wildcards))
    inputs["model"] = f"results/{wildcards.scale}/interactive/classifiers/{wildcards.classifier}.pt"
    if wildcards.scale == "demo":
        inputs["regions"] = "{}/regions.npz".format(ia_dataset_root(wildcards.scale, wildcards.classifier))
    return inputs


def ia_generator(wildcards):
    """The generator: the demo's own, or the user-provided StyleGAN2-ADA pickle (paper)."""
    if wildcards.scale == "demo":
        return "results/demo/interactive/generator/generator.pt"
    return study_cfg("interactive", "generator", "paper")["generator_path"]


def ia_attr_classifiers(wildcards):
    """The classifier weights of every latent-direction attribute."""
    attrs = study_cfg("interactive", "generative", wildcards.scale)["attrs"]
    return {a: f"results/{wildcards.scale}/interactive/classifiers/celeb-{a}.pt" for a in attrs}


def ia_phase3_classifiers(wildcards):
    """Direction attributes' classifiers plus the evaluated one."""
    models = ia_attr_classifiers(wildcards)
    models.setdefault(wildcards.eval_attr, f"results/{wildcards.scale}/interactive/classifiers/celeb-{wildcards.eval_attr}.pt")
    return models


def ia_latent_models(wildcards):
    attrs = study_cfg("interactive", "generative", wildcards.scale)["attrs"]
    return {a: f"results/{wildcards.scale}/interactive/latent/models/{a}.pt" for a in attrs}


def ia_latent_records(wildcards):
    return [p.replace(".pt", ".json") for p in ia_latent_models(wildcards).values()]


def ia_per_classifier(pattern):
    """Input function: ``pattern`` expanded over the classifiers of the job's scale."""

    def inputs(wildcards):
        return [pattern.format(scale=wildcards.scale, classifier=c) for c in ia_classifiers(wildcards.scale)]

    return inputs


def ia_per_eval_attr(pattern):
    def inputs(wildcards):
        evals = study_cfg("interactive", "generative", wildcards.scale)["eval_attrs"]
        return [pattern.format(scale=wildcards.scale, eval_attr=a) for a in evals]

    return inputs


def interactive_train_targets(scale):
    base = f"results/{scale}/interactive"
    return [f"{base}/classifiers/{c}.pt" for c in ia_classifiers(scale)] + [f"{base}/classifiers.csv"]


def interactive_heatmap_targets(scale):
    base = f"results/{scale}/interactive"
    return [f"{base}/fig_heatmaps_{c}.png" for c in ia_classifiers(scale)] + [f"{base}/heatmaps.csv"]


def interactive_generative_targets(scale):
    base = f"results/{scale}/interactive"
    evals = study_cfg("interactive", "generative", scale)["eval_attrs"]
    return [f"{base}/latent_models.csv", f"{base}/generative.csv"] + [
        f"{base}/fig_canvases_{a}.png" for a in evals
    ]


def interactive_targets(scale):
    return (
        interactive_train_targets(scale)
        + interactive_heatmap_targets(scale)
        + interactive_generative_targets(scale)
        + [f"results/{scale}/interactive/claims.csv"]
    )
