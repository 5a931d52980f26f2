# Input functions and targets of the esc50 rules (kept apart from the rules, as the
# Snakemake linter asks).


def esc50_cfg(part, wildcards):
    return study_cfg("esc50", part, wildcards.scale)


def esc50_hparams(part):
    """Input function: the hyper-parameters of one part (its config block minus archs and resources)."""

    def params(wildcards):
        return {k: v for k, v in esc50_cfg(part, wildcards).items() if k not in ("archs", "resources")}

    return params


def esc50_classifier_inputs(wildcards):
    """The data, and with test_only the SpeechBrain checkpoints of the classifier to import."""
    cfg = esc50_cfg("classify", wildcards)
    inputs = {"meta": f"data/{wildcards.scale}/esc50/meta/esc50.csv", "audio": f"data/{wildcards.scale}/esc50/audio"}
    if cfg["test_only"]:
        inputs["embedding_ckpt"] = f"{cfg['pretrained_dir']}/{wildcards.arch}/embedding_model.ckpt"
        inputs["classifier_ckpt"] = f"{cfg['pretrained_dir']}/{wildcards.arch}/classifier.ckpt"
    return inputs


def esc50_folds(wildcards):
    cfg = esc50_cfg("classify", wildcards)
    return {"train": cfg["train_folds"], "valid": cfg["valid_folds"], "test": cfg["test_folds"]}


def esc50_interpretations(scale):
    """(method, arch) pairs of the interpretation table at one scale."""
    pairs = [("piq", a) for a in study_cfg("esc50", "piq", scale)["archs"]]
    pairs += [("l2i", a) for a in study_cfg("esc50", "l2i", scale)["archs"]]
    pairs += [("amt", a) for a in study_cfg("esc50", "amt", scale)["archs"]]
    return pairs


def esc50_interpreter_inputs(wildcards):
    """Classifier, interpreter weights and (L2I) NMF dictionary of one interpretation."""
    base = f"results/{wildcards.scale}/esc50"
    inputs = {
        "meta": f"data/{wildcards.scale}/esc50/meta/esc50.csv",
        "classifier": f"{base}/classifier/{wildcards.arch}.pt",
    }
    if wildcards.method in ("piq", "l2i"):
        inputs["model"] = f"{base}/{wildcards.method}/{wildcards.arch}.pt"
    if wildcards.method == "l2i":
        inputs["nmf"] = f"{base}/nmf/{wildcards.arch}.pt"
    return inputs


def esc50_classify_targets(scale):
    base = f"results/{scale}/esc50"
    return [f"{base}/accuracy_table.csv"] + [
        f"{base}/classifier/{a}.json" for a in study_cfg("esc50", "classify", scale)["archs"]
    ]


def esc50_method_targets(scale, method):
    base = f"results/{scale}/esc50"
    return [
        path
        for m, a in esc50_interpretations(scale)
        if m == method
        for path in (f"{base}/interpretations/{m}_{a}.csv", f"{base}/fig_clips_{m}_{a}.png", f"{base}/audio/{m}_{a}")
    ]


def esc50_targets(scale):
    base = f"results/{scale}/esc50"
    targets = esc50_classify_targets(scale) + [f"{base}/interpretation_table.csv", f"{base}/claims.csv"]
    for method in ("piq", "l2i", "amt"):
        targets += esc50_method_targets(scale, method)
    if "conv2d" in study_cfg("esc50", "piq", scale)["archs"]:
        targets += [f"{base}/overlap.csv", f"{base}/fig_overlap.png"]
    return targets
