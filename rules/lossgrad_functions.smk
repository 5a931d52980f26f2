# Input functions, parameters and targets of the lossgrad rules (kept apart from the rules,
# as the Snakemake linter asks). Every config value is read through setting() (rules/common.smk).

# The user's own images (lossgrad.user_data.path; null: the study's data).
LG_USER_DATA = setting("lossgrad", "user_data", "path", scale=SCALE)
# The MNIST file of a scale: generated (demo) or prepared from the IDX archives (paper), or
# the user's images as lossgrad_import_user_data converts them.
LG_MNIST = "data/{scale}/mnist/mnist.npz" if LG_USER_DATA is None else "data/{scale}/user/lossgrad/mnist.npz"
# The four IDX archives of paper MNIST (torchvision's names).
LG_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
LG_MNIST_TRAIN = ("epochs", "batch_size", "test_batch_size", "lr", "gamma", "arch")
# One SVDNet's files (svd.seeds): model, evaluation, gradient cache, occlusion.
LG_SVD = "results/{scale}/lossgrad/svd/seed{seed}"
LG_SVD_TRAIN = (
    "epochs",
    "batches_per_epoch",
    "batch_size",
    "lr",
    "lr_decay",
    "momentum",
    "arch",
    "test_batch_size",
)
# Occlusion sweeps: the step function's argument -> the config key it takes.
LG_SWEEP = {
    "attribution_methods": "attribution_method",
    "replacement_types": "replacement_type",
    "replacement_value": "replacement_value",
    "roar": "ROAR",
    "occlude_levels": "occlude",
}
LG_MNIST_SWEEP = {**LG_SWEEP, "test_batch_size": "test_batch_size"}
LG_SVD_SWEEP = {
    **LG_SWEEP,
    "median_filter": "median_filter",
    "test_batch_size": "test_batch_size",
    "frame_step": "occlusion_frame_step",
}


def lg_user_source(wildcards):
    """Input of lossgrad_import_user_data: the user's file or folder once it exists (an edited
    file re-imports); a missing one is reported by the import's own check."""
    path = Path(str(setting("lossgrad", "user_data", "path")(wildcards)))
    return str(path) if path.exists() else []


def lg_svd_claims_inputs(pattern):
    """Input function: :func:`lg_svd_claims`, none on a user's images (the singing-voice half
    needs audio and does not run)."""
    return (lambda wildcards: []) if LG_USER_DATA is not None else lg_svd_claims(pattern)


def lg_sweep(part, names):
    """Params: the occlusion knobs of `lossgrad.<part>`, under the step function's names."""

    def sweep(wildcards):
        block = setting("lossgrad", part, keys=list(names.values()))(wildcards)
        return {arg: block[key] for arg, key in names.items()}

    return sweep


def lg_torch_threads(part):
    """Params: torch's intra-op threads of a `lossgrad.<part>` job, the configured
    `resources.threads` whatever `--cores` grants the job: a sum over threads is split by
    their number, so a different count would train another network (results must not
    depend on the cores)."""
    return lambda wildcards: setting("lossgrad", part, "resources")(wildcards)["threads"]


def lg_cpu_resources(part):
    """`mem_mb` and `runtime` of `lossgrad.<part>`, without its gpu (a CPU-only job)."""
    return {key: value for key, value in job_resources("lossgrad", part).items() if key != "gpu"}


def lg_models(wildcards):
    """Every trained MNIST model of the job's scale: one run per head (variant) and seed."""
    cfg = setting("lossgrad", "mnist", scale=wildcards.scale)
    variants = [f"{c['classifier_type']}{c['num_classes']}" for c in cfg["classifiers"]]
    return [{"variant": v, "seed": s} for v in variants for s in cfg["seeds"]]


def lg_example_model(wildcards):
    """The one model of the examples figure: plot.example_variant at plot.example_seed (or the
    scale's first seed)."""
    plot = setting("lossgrad", "plot", scale=wildcards.scale)
    seed = plot["example_seed"]
    if seed is None:
        seed = setting("lossgrad", "mnist", "seeds", scale=wildcards.scale)[0]
    return [{"variant": plot["example_variant"], "seed": seed}]


def lg_svd_runs(wildcards):
    """Every SVDNet of the job's scale: one run per `svd.seeds`."""
    return [{"seed": s} for s in setting("lossgrad", "svd", "seeds", scale=wildcards.scale)]


def lg_svd_claims_run(wildcards):
    """The SVDNet the claims are decided on: the first of `svd.seeds`."""
    return lg_svd_runs(wildcards)[:1]


def lg_svd_claims(pattern):
    """Input function: `pattern` of the claims' SVDNet (one path)."""
    return lambda wildcards: per_run(pattern, lg_svd_claims_run)(wildcards)[0]


def lg_svd_gradient_seed(wildcards):
    """The seed of the SVDNet whose loss gradient ranks seed {seed}'s bins: `svd.lossgradient`
    (the original's --lossgradient), or the model's own seed when that is null."""
    other = setting("lossgrad", "svd", "lossgradient", scale=wildcards.scale)
    return int(wildcards.seed) if other is None else other


def lg_svd_gradient_model(wildcards):
    """Input: the model file of :func:`lg_svd_gradient_seed`."""
    return f"{LG_SVD}/model.pt".format(scale=wildcards.scale, seed=lg_svd_gradient_seed(wildcards))


#: What each part's demo data is (the scale note of its figures).
LG_DEMO_DATA = {
    "mnist": "scikit-learn's 8x8 digits upsampled to 28x28 (not MNIST)",
    "svd": "generated songs with planted sung segments (not Jamendo)",
}


def lg_scale_note(part):
    """params: the note a demo figure of `lossgrad.<part>` carries under its legend (data,
    network width, epochs, seeds); empty at paper scale."""

    def note(wildcards):
        if wildcards.scale != "demo":
            return ""
        block = setting("lossgrad", part)(wildcards)
        seeds = len(block.get("seeds", [block.get("seed")]))
        runs = f"{seeds} seeds" if seeds != 1 else "one model"
        data = LG_DEMO_DATA[part] if LG_USER_DATA is None else f"your images ({Path(LG_USER_DATA).name})"
        return (
            f"Demo scale: {data}; narrowed networks, {block['epochs']} epochs, {runs}; "
            "not comparable with the paper's figure."
        )

    return note


def lg_example_run(wildcards):
    """params: the examples figure's model as `{"variant": ..., "seed": ...}` (its title names it)."""
    return lg_example_model(wildcards)[0]


def lg_example(pattern):
    """Input function: `pattern` of the examples figure's model (one path)."""
    return lambda wildcards: per_run(pattern, lg_example_model)(wildcards)[0]


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
    """Every output of the study: both halves and the one claims table (on a user's images the
    MNIST half only: the singing-voice half needs audio)."""
    svd = lossgrad_svd_targets(scale) if LG_USER_DATA is None else []
    return [*lossgrad_mnist_targets(scale), *svd, f"results/{scale}/lossgrad/claims.csv"]
