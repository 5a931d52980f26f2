# Input functions and targets of the lossgrad rules (kept apart from the rules, as the
# Snakemake linter asks).


def lg_mnist(wildcards):
    return study_cfg("lossgrad", "mnist", wildcards.scale)


def lg_variants(scale):
    cfg = study_cfg("lossgrad", "mnist", scale)
    return [f"{c['classifier_type']}{c['num_classes']}" for c in cfg["classifiers"]]


def lg_models(scale):
    """(variant, seed) of every trained model at a scale."""
    cfg = study_cfg("lossgrad", "mnist", scale)
    return [(v, s) for v in lg_variants(scale) for s in cfg["seeds"]]


def lg_per_model(pattern):
    """Input function: ``pattern`` expanded over every trained model of the job's scale."""

    def inputs(wildcards):
        return [pattern.format(scale=wildcards.scale, variant=v, seed=s) for v, s in lg_models(wildcards.scale)]

    return inputs


def lg_example_model(wildcards):
    plot = config["lossgrad"]["plot"]
    seed = plot["example_seed"]
    if seed is None:
        seed = lg_mnist(wildcards)["seeds"][0]
    return {"variant": plot["example_variant"], "seed": seed}


def lg_example_input(kind):
    paths = {
        "model": "results/{scale}/lossgrad/models/{variant}/seed{seed}.pt",
        "grads": "results/{scale}/lossgrad/gradients/{variant}/seed{seed}.npz",
    }

    def inputs(wildcards):
        return paths[kind].format(scale=wildcards.scale, **lg_example_model(wildcards))

    return inputs


def lg_svd(wildcards):
    return study_cfg("lossgrad", "svd", wildcards.scale)


def lossgrad_mnist_targets(scale):
    base = f"results/{scale}/lossgrad"
    return [
        f"{base}/mnist_roar.csv",
        f"{base}/mnist_sign_table.csv",
        f"{base}/fig_mnist_roar.png",
        f"{base}/fig_mnist_examples.png",
    ]


def lossgrad_svd_targets(scale):
    base = f"results/{scale}/lossgrad"
    return [f"{base}/svd_eval.csv", f"{base}/svd_roar.csv", f"{base}/fig_svd_roar.png"]


def lossgrad_targets(scale):
    """Every output of the study: both halves and the one claims table."""
    return [*lossgrad_mnist_targets(scale), *lossgrad_svd_targets(scale), f"results/{scale}/lossgrad/claims.csv"]
