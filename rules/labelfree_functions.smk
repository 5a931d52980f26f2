# Input functions and targets of the labelfree rules (kept apart from the rules, as the
# Snakemake linter asks).


#: Feature-consistency data sets -> their config part (claim 1.1).
LF_FEATURE_PARTS = {
    "mnist": "consistency_features",
    "ecg": "consistency_features_ecg",
    "cifar10": "consistency_features_cifar",
    "cifar100": "consistency_features_cifar",
}
LF_FEATURE_DATASETS = "|".join(LF_FEATURE_PARTS)
LF_DATASET_NAMES = {"mnist": "MNIST", "ecg": "ECG5000", "cifar10": "CIFAR-10", "cifar100": "CIFAR-100",
                    "dsprites": "dSprites"}


def lf_features(wildcards):
    """The feature-consistency config of the job's data set (MNIST when it has none) and scale."""
    part = LF_FEATURE_PARTS[getattr(wildcards, "dataset", "mnist")]
    return study_cfg("labelfree", part, wildcards.scale)


def lf_feature_resource(key):
    return lambda wildcards: lf_features(wildcards)["resources"][key]


def lf_feature_datasets(scale):
    """The feature-consistency data sets enabled at ``scale`` (CIFAR only where its block is enabled)."""
    datasets = []
    for dataset, part in LF_FEATURE_PARTS.items():
        cfg = study_cfg("labelfree", part, scale)
        if cfg["enabled"] and (part != "consistency_features_cifar" or dataset in cfg["datasets"]):
            datasets.append(dataset)
    return datasets


def lf_data(wildcards):
    """The data file of a feature-consistency data set (MNIST is the one lossgrad writes)."""
    return f"data/{wildcards.scale}/{wildcards.dataset}/{wildcards.dataset}.npz"


def lf_per_seed(pattern):
    """Input function: ``pattern`` expanded over the runs of the job's data set and scale."""

    def inputs(wildcards):
        return [
            pattern.format(scale=wildcards.scale, dataset=wildcards.dataset, seed=s)
            for s in lf_features(wildcards)["seeds"]
        ]

    return inputs


def lf_feature_tables(wildcards):
    """Claim 1.1 tables of every enabled data set, keyed by data set."""
    return {
        f"features_{d}": f"results/{wildcards.scale}/labelfree/consistency_features_{d}.csv"
        for d in lf_feature_datasets(wildcards.scale)
    }


def lf_named_targets(scale, experiment):
    """Figures and tables of the per-data-set experiments: ``feature_consistency`` (claim 1.1)
    or ``disentanglement`` (claim 3)."""
    base = f"results/{scale}/labelfree"
    if experiment == "feature_consistency":
        return [
            path
            for d in lf_feature_datasets(scale)
            for path in (f"{base}/consistency_features_{d}.csv", f"{base}/fig_feature_consistency_{d}.png")
        ]
    return [
        path
        for d in study_cfg("labelfree", "disvae", scale)["datasets"]
        for path in (f"{base}/disentanglement_{d}.csv", f"{base}/fig_disentanglement_{d}.png")
    ]


def labelfree_targets(scale):
    base = f"results/{scale}/labelfree"
    return lf_named_targets(scale, "feature_consistency") + lf_named_targets(scale, "disentanglement") + [
        f"{base}/consistency_examples_mnist.csv",
        f"{base}/fig_example_consistency_mnist.png",
        f"{base}/encoder_vs_full_mnist.csv",
        f"{base}/fig_encoder_vs_full_mnist.png",
        f"{base}/pretext_mnist.csv",
        f"{base}/pretext_mnist.tex",
        f"{base}/claims.csv",
    ]


def lf_examples(wildcards):
    return study_cfg("labelfree", "consistency_examples", wildcards.scale)


def lf_examples_per_seed(pattern):
    """Input function: ``pattern`` expanded over the example-importance runs of the scale."""

    def inputs(wildcards):
        return [pattern.format(scale=wildcards.scale, seed=s) for s in lf_examples(wildcards)["seeds"]]

    return inputs


def lf_encoder_vs_full(wildcards):
    return study_cfg("labelfree", "encoder_vs_full", wildcards.scale)


def lf_evf_per_seed(pattern):
    """Input function: ``pattern`` expanded over the classifier runs of the scale."""

    def inputs(wildcards):
        return [pattern.format(scale=wildcards.scale, seed=s) for s in lf_encoder_vs_full(wildcards)["seeds"]]

    return inputs


def lf_pretext(wildcards):
    return study_cfg("labelfree", "pretext", wildcards.scale)


def lf_pretext_models(wildcards):
    """The models of every task of one run."""
    return {
        task: f"results/{wildcards.scale}/labelfree/mnist/pretext/{task}/seed{wildcards.seed}.pt"
        for task in lf_pretext(wildcards)["tasks"]
    }


def lf_pretext_per_seed(pattern):
    """Input function: ``pattern`` expanded over the pretext runs of the scale."""

    def inputs(wildcards):
        return [pattern.format(scale=wildcards.scale, seed=s) for s in lf_pretext(wildcards)["seeds"]]

    return inputs


def lf_disvae(wildcards):
    return study_cfg("labelfree", "disvae", wildcards.scale)


def lf_disvae_runs(wildcards):
    """Every (loss, beta, seed) correlation table of one data set at the scale."""
    cfg = lf_disvae(wildcards)
    return [
        f"results/{wildcards.scale}/labelfree/disvae/{wildcards.dataset}/{loss}_beta{beta:g}_seed{seed}.csv"
        for loss in cfg["losses"]
        for beta in cfg["beta_list"]
        for seed in cfg["seeds"]
    ]


def lf_disentanglement_tables(wildcards):
    """Claim 3 tables of every data set, keyed by data set."""
    return {
        f"disentanglement_{d}": f"results/{wildcards.scale}/labelfree/disentanglement_{d}.csv"
        for d in lf_disvae(wildcards)["datasets"]
    }
