# Input functions and targets of the labelfree rules (kept apart from the rules, as the
# Snakemake linter asks).


def lf_features(wildcards):
    return study_cfg("labelfree", "consistency_features", wildcards.scale)


def lf_per_seed(pattern):
    """Input function: ``pattern`` expanded over the runs of the job's scale."""

    def inputs(wildcards):
        return [pattern.format(scale=wildcards.scale, seed=s) for s in lf_features(wildcards)["seeds"]]

    return inputs


def labelfree_targets(scale):
    base = f"results/{scale}/labelfree"
    return [
        f"{base}/consistency_features_mnist.csv",
        f"{base}/fig_consistency_features_mnist.png",
        f"{base}/consistency_examples_mnist.csv",
        f"{base}/fig_consistency_examples_mnist.png",
        f"{base}/encoder_vs_full_mnist.csv",
        f"{base}/fig_encoder_vs_full_mnist.png",
        f"{base}/pretext_mnist.csv",
        f"{base}/pretext_mnist.tex",
        f"{base}/disvae.csv",
        f"{base}/fig_disvae.png",
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
    """Every (dataset, loss, beta, seed) correlation table of the scale."""
    cfg = lf_disvae(wildcards)
    return [
        f"results/{wildcards.scale}/labelfree/disvae/{d}/{loss}_beta{beta:g}_seed{seed}.csv"
        for d in cfg["datasets"]
        for loss in cfg["losses"]
        for beta in cfg["beta_list"]
        for seed in cfg["seeds"]
    ]
