# Constants, input functions and targets of the labelfree rules (kept apart from the rules,
# as the Snakemake linter asks).

#: The user's own images in MNIST's place (labelfree.user_data.path; null: the study's data).
LF_USER_DATA = setting("labelfree", "user_data", "path", scale=SCALE)
#: The MNIST file (the lossgrad rules write it), and a data set's file ({dataset} wildcard);
#: with user data, the user's images as labelfree_import_user_data converts them (the only
#: data set of such a run: lf_datasets).
LF_MNIST = "data/{scale}/mnist/mnist.npz" if LF_USER_DATA is None else "data/{scale}/user/labelfree/mnist.npz"
LF_DATA = (
    "data/{scale}/{dataset}/{dataset}.npz" if LF_USER_DATA is None else "data/{scale}/user/labelfree/{dataset}.npz"
)
#: Claim 1.1's data sets -> their config part (CIFAR-10 and CIFAR-100 share one).
LF_FEATURE_PARTS = {
    "mnist": "consistency_features",
    "ecg": "consistency_features_ecg",
    "cifar10": "consistency_features_cifar",
    "cifar100": "consistency_features_cifar",
}
#: Every {dataset}: claim 1.1's and claim 3's (mnist, dsprites).
LF_DATASETS = "|".join(dict.fromkeys([*LF_FEATURE_PARTS, "mnist", "dsprites"]))
#: Config keys each rule passes on to its step.
LF_AUTOENCODER_KEYS = (
    "latent_dim",
    "loss",
    "positional_decoder",
    "epochs",
    "batch_size",
    "lr",
    "weight_decay",
    "valid_fraction",
    "noise_level",
)
LF_ATTRIBUTION_KEYS = ("methods", "n_test", "ig_steps", "shap_samples", "internal_batch_size")
LF_DENOISER_KEYS = (
    "latent_dim",
    "epochs",
    "batch_size",
    "lr",
    "weight_decay",
    "noise_level",
    "checkpoint_interval",
    "loss",
)
LF_EXAMPLE_KEYS = (
    "loss",
    "explainers",
    "subtrain_size",
    "subtest_size",
    "recursion_depth",
    "damping",
    "scale",
    "simplex_epochs",
)
LF_CLASSIFIER_KEYS = ("latent_dim", "epochs", "batch_size", "lr", "weight_decay")
LF_PRETEXT_KEYS = ("epochs", "batch_size", "lr", "weight_decay", "noise_level", "mask_proportion")
LF_TASK_IMPORTANCE_KEYS = ("n_test", "subtrain_size", "shap_samples", "internal_batch_size")
LF_VAE_KEYS = ("epochs", "batch_size", "lr", "n_test", "shap_samples", "mnist_to_32")


def lf_datasets(datasets):
    """`datasets` of a run: all of them, or on a user's images only "mnist" (their slot)."""
    return list(datasets) if LF_USER_DATA is None else [d for d in datasets if d == "mnist"]


def lf_user_source(wildcards):
    """Input of labelfree_import_user_data: the user's file or folder once it exists (an edited
    file re-imports); a missing one is reported by the import's own check."""
    path = Path(str(setting("labelfree", "user_data", "path")(wildcards)))
    return str(path) if path.exists() else []


def lf_disvae_runs(wildcards):
    """per_run()'s runs of the claims: claim 3's data sets at the job's scale."""
    return [{"dataset": d} for d in lf_datasets(setting("labelfree", "disvae", "datasets")(wildcards))]


def lf_feature(key=None, *, keys=None):
    """setting() of claim 1.1's rules: the config part is that of the job's {dataset}
    (LF_FEATURE_PARTS), which setting() cannot derive from the wildcard's value."""
    return lambda wildcards: setting("labelfree", LF_FEATURE_PARTS[wildcards.dataset], key, keys=keys)(wildcards)


def lf_feature_part(wildcards):
    """The config part of claim 1.1's job (its {dataset}'s, LF_FEATURE_PARTS)."""
    return LF_FEATURE_PARTS[wildcards.dataset]


def lf_feature_threads(wildcards):
    """job_threads() of claim 1.1's rules (the part of the job's {dataset})."""
    return lf_feature("resources")(wildcards)["threads"]


#: job_resources() of claim 1.1's rules (the part of the job's {dataset}).
LF_FEATURE_RESOURCES = {
    key: (lambda wildcards, key=key: lf_feature("resources")(wildcards)[key]) for key in ("mem_mb", "runtime", "gpu")
}


#: Claim 1.2's data sets -> their config part (CIFAR-10 and CIFAR-100 share one).
LF_EXAMPLE_PARTS = {
    "mnist": "consistency_examples",
    "ecg": "consistency_examples_ecg",
    "cifar10": "consistency_examples_cifar",
    "cifar100": "consistency_examples_cifar",
}


def lf_example(key=None, *, keys=None):
    """setting() of claim 1.2's rules: the config part of the job's {dataset} (LF_EXAMPLE_PARTS)."""
    return lambda wildcards: setting("labelfree", LF_EXAMPLE_PARTS[wildcards.dataset], key, keys=keys)(wildcards)


def lf_example_part(wildcards):
    """The config part of claim 1.2's job (its {dataset}'s, LF_EXAMPLE_PARTS)."""
    return LF_EXAMPLE_PARTS[wildcards.dataset]


def lf_example_threads(wildcards):
    """job_threads() of claim 1.2's rules (the part of the job's {dataset})."""
    return lf_example("resources")(wildcards)["threads"]


#: job_resources() of claim 1.2's rules (the part of the job's {dataset}).
LF_EXAMPLE_RESOURCES = {
    key: (lambda wildcards, key=key: lf_example("resources")(wildcards)[key]) for key in ("mem_mb", "runtime", "gpu")
}


def lf_example_datasets(scale):
    """Claim 1.2's data sets enabled at `scale` (CIFAR's block: those of its `datasets`)."""
    datasets = []
    for dataset, part in LF_EXAMPLE_PARTS.items():
        block = setting("labelfree", part, scale=scale)
        if block["enabled"] and (part != "consistency_examples_cifar" or dataset in block["datasets"]):
            datasets.append(dataset)
    return lf_datasets(datasets)


def lf_example_runs(wildcards):
    """per_run()'s runs of the claims: claim 1.2's data sets at the job's scale."""
    return [{"dataset": dataset} for dataset in lf_example_datasets(wildcards.scale)]


def lf_report(path, caption, **options):
    """An output in the report's labelfree category, captioned by report/labelfree/<caption>.rst."""
    return report(path, caption=f"../report/labelfree/{caption}.rst", category="labelfree", **options)


#: What each demo data set is (the scale note of the demo figures), formatted with the
#: data set's settings.
LF_DEMO_DATA = {
    "mnist": "scikit-learn's 8x8 digits upsampled to 28x28",
    "ecg": "ECGSYN-simulated beats ({n_normal} normal, {n_abnormal} with an inverted T wave)",
    "dsprites": "procedural dSprites-like sprites ({dsprites_n} at {dsprites_size}x{dsprites_size})",
}


def lf_scale_note(part, published=False):
    """params: the note a demo figure carries under its axes (data, epochs, runs, test items),
    saying that FACT's values are marked for reference (`published`) or that the curves are
    not comparable with the paper's; empty at paper scale. On a user's images (any scale) it
    says so first (lf_user_note). `part` is a config part or a function of the wildcards
    giving one (lf_feature's)."""

    def note(wildcards):
        scale_note = demo(wildcards) if wildcards.scale == "demo" else ""
        if LF_USER_DATA is not None:
            return f"{lf_user_note(published)} {scale_note}".strip()
        return scale_note

    def demo(wildcards):
        name = part(wildcards) if callable(part) else part
        block = setting("labelfree", name)(wildcards)
        dataset = getattr(wildcards, "dataset", "mnist")
        data = LF_DEMO_DATA[dataset].format(**setting("labelfree", "ecg", scale="demo"), **block)
        if LF_USER_DATA is not None:
            data = f"your images ({Path(LF_USER_DATA).name})"
        runs = len(block["seeds"])
        done = (
            "FACT's published means (full data, paper settings) are marked for reference only"
            if published and LF_USER_DATA is None
            else "not comparable with FACT's full-scale figure"
        )
        return (
            f"Demo scale: {data}; {block['epochs']} epochs, {runs} run{'s' if runs != 1 else ''}, "
            f"{block.get('n_test', block.get('subtest_size'))} test items; {done}."
        )

    return note


def lf_user_note(published):
    """The note of every figure of a user-data run: the images fill MNIST's slot, and FACT's
    marked values (`published`) are MNIST's."""
    marks = " FACT's published means marked in it are MNIST's, not comparable with your images." if published else ""
    return f"Your images ({Path(LF_USER_DATA).name}) in MNIST's place: where the title says MNIST, read yours.{marks}"


def lf_runs(name, values):
    """per_run()'s runs: one per value of the input function `values` (a setting), as `{name: value}`."""
    return lambda wildcards: [{name: value} for value in values(wildcards)]


def lf_vae_runs(wildcards):
    """per_run()'s runs of claim 3: every loss, beta and seed at the job's scale; under
    weights: published, FACT's VAEs of the job's {dataset} whose loss and beta the config runs."""
    vae = setting("labelfree", "disvae")(wildcards)
    if LF_WEIGHTS == "published":
        return [
            {"loss": e["loss"], "beta": f"{e['beta']:g}", "seed": e["run"]}
            for e in lf_published_runs("vae", wildcards.dataset, wildcards.scale)
            if e["loss"] in vae["losses"] and e["beta"] in vae["beta_list"]
        ]
    return [
        {"loss": loss, "beta": f"{beta:g}", "seed": seed}
        for loss in vae["losses"]
        for beta in vae["beta_list"]
        for seed in vae["seeds"]
    ]


def lf_vae_fit(wildcards):
    """Claim 3's settings of the job: the latent size and likelihood of its {dataset}, then LF_VAE_KEYS."""
    vae = setting("labelfree", "disvae", keys=("latent_dims", "rec_dist", *LF_VAE_KEYS))(wildcards)
    return {
        "latent_dim": vae.pop("latent_dims")[wildcards.dataset],
        "rec_dist": vae.pop("rec_dist")[wildcards.dataset],
        **vae,
    }


def lf_pretext_train(wildcards):
    """Claims 2.1/2.2's training settings of the job: the latent size of its {dataset}, then LF_PRETEXT_KEYS."""
    pretext = setting("labelfree", "pretext", keys=("latent_dims", *LF_PRETEXT_KEYS))(wildcards)
    return {"latent_dim": pretext.pop("latent_dims")[wildcards.dataset], **pretext}


def lf_pretext_runs(wildcards):
    """per_run()'s runs of the claims: claims 2.1/2.2's data sets at the job's scale."""
    return [{"dataset": dataset} for dataset in lf_datasets(setting("labelfree", "pretext", "datasets")(wildcards))]


def lf_feature_datasets(scale):
    """Claim 1.1's data sets enabled at `scale` (CIFAR only where its block is enabled)."""
    datasets = []
    for dataset, part in LF_FEATURE_PARTS.items():
        block = setting("labelfree", part, scale=scale)
        if block["enabled"] and (part != "consistency_features_cifar" or dataset in block["datasets"]):
            datasets.append(dataset)
    return lf_datasets(datasets)


def lf_feature_runs(wildcards):
    """per_run()'s runs of the claims: claim 1.1's data sets at the job's scale."""
    return [{"dataset": dataset} for dataset in lf_feature_datasets(wildcards.scale)]


def lf_experiment_targets(scale):
    """Tables and figures of each of FACT's experiments at `scale` (the named target rules)."""
    base = f"results/{scale}/labelfree"
    return {
        "consistency_features": [
            path
            for d in lf_feature_datasets(scale)
            for path in (f"{base}/consistency_features_{d}.csv", f"{base}/fig_feature_consistency_{d}.png")
        ],
        "disvae": [
            path
            for d in lf_datasets(setting("labelfree", "disvae", "datasets", scale=scale))
            for path in (f"{base}/disentanglement_{d}.csv", f"{base}/fig_disentanglement_{d}.png")
        ],
        "consistency_examples": [
            path
            for d in lf_example_datasets(scale)
            for path in (f"{base}/consistency_examples_{d}.csv", f"{base}/fig_example_consistency_{d}.png")
        ],
        "encoder_vs_full": [f"{base}/encoder_vs_full_mnist.csv", f"{base}/fig_encoder_vs_full_mnist.png"],
        "pretext": [
            f"{base}/{name}_{d}{ext}"
            for d in lf_datasets(setting("labelfree", "pretext", "datasets", scale=scale))
            for name, ext in (
                ("pretext", ".csv"),
                ("pretext", ".tex"),
                ("pretext", "_spearman.tex"),
                ("fig_pretext_saliency", ".png"),
                ("fig_pretext_examples", ".png"),
            )
        ],
    }


def labelfree_targets(scale):
    """Every output of the study at `scale`: each experiment's, and the claims."""
    experiments = lf_experiment_targets(scale)
    return [path for paths in experiments.values() for path in paths] + [f"results/{scale}/labelfree/claims.csv"]


# --- weights: published (FACT's models; docs/published-weights.md) -------------------------

#: Where every labelfree model comes from: "trained" or "published" (FACT's).
LF_WEIGHTS = setting("labelfree", "weights", scale=SCALE)
if LF_WEIGHTS == "published" and SCALE == "demo":
    raise ConfigError(
        "config: labelfree.weights is 'published', which needs scale=paper: FACT's models were "
        "trained on the original data sets, not on the demo's stand-ins (set labelfree.weights: trained)"
    )


#: Claim 1.2's explainers that need the model's training (TracIn its snapshots, influence
#: functions its training loss at the optimum): FACT's --inference skips both
#: (experiments/mnist.py:248-255), and so does weights: published.
LF_TRAINING_EXPLAINERS = ("influence_functions", "tracin")


def lf_published_runs(group, dataset, scale):
    """FACT's published models of `group` (autoencoder, classifier, denoiser, pretext, vae)
    and `dataset` (labelfree.published)."""
    files = setting("labelfree", "published", group, scale=scale)
    if dataset not in files:
        raise ConfigError(
            f"config: labelfree.weights is 'published' but labelfree.published.{group} has no '{dataset}'"
        )
    return files[dataset]


def lf_published_entry(wildcards):
    """The labelfree.published entry of labelfree_download_published's job: {kind} is
    autoencoder, classifier, denoiser, pretext_<task> or vae_<loss>_beta<beta>; {seed} its run."""
    kind, run = wildcards.kind, int(wildcards.seed)
    group, match = kind, {}
    if kind.startswith("pretext_"):
        group, match = "pretext", {"task": kind.removeprefix("pretext_")}
    elif kind.startswith("vae_"):
        loss, beta = kind.removeprefix("vae_").rsplit("_beta", 1)
        group, match = "vae", {"loss": loss, "beta": float(beta)}
    for entry in lf_published_runs(group, wildcards.dataset, wildcards.scale):
        if entry["run"] == run and all(entry.get(key) == value for key, value in match.items()):
            return entry
    raise ConfigError(f"config: labelfree.published.{group}.{wildcards.dataset} has no run {run} {match or ''}".strip())


def lf_published_model(kind, **values):
    """labelfree_download_published's model of `kind`, the job's wildcards filled in by `values`."""
    return rules.labelfree_download_published.output.model.format(kind=kind, **values)


def lf_feature_seeds(wildcards):
    """The runs of claim 1.1's job: the config's seeds, or the published autoencoders' runs."""
    if LF_WEIGHTS == "published":
        return [entry["run"] for entry in lf_published_runs("autoencoder", wildcards.dataset, wildcards.scale)]
    return lf_feature("seeds")(wildcards)


def lf_encoder_vs_full_seeds(wildcards):
    """The runs of encoder vs full: the config's seeds, or the published MNIST classifiers' runs."""
    if LF_WEIGHTS == "published":
        return [entry["run"] for entry in lf_published_runs("classifier", "mnist", wildcards.scale)]
    return setting("labelfree", "encoder_vs_full", "seeds")(wildcards)


def lf_autoencoder(wildcards):
    """The autoencoder of claim 1.1's job: trained (labelfree_train_autoencoder) or FACT's
    (labelfree_download_published), so weights: published puts no training job in the plan."""
    if LF_WEIGHTS == "published":
        return rules.labelfree_download_published.output.model.format(kind="autoencoder", **wildcards)
    return rules.labelfree_train_autoencoder.output.model.format(**wildcards)


def lf_classifier(wildcards):
    """The MNIST classifier of the encoder-vs-full job: trained (labelfree_train_classifier) or FACT's."""
    if LF_WEIGHTS == "published":
        return rules.labelfree_download_published.output.model.format(kind="classifier", dataset="mnist", **wildcards)
    return rules.labelfree_train_classifier.output.model.format(**wildcards)


def lf_published_latent_dim(wildcards):
    """params of labelfree_download_published: the latent size of the model it maps."""
    kind = wildcards.kind
    if kind == "classifier":
        return setting("labelfree", "encoder_vs_full", "latent_dim")(wildcards)
    if kind == "denoiser":
        return lf_example("latent_dim")(wildcards)
    if kind.startswith("pretext_"):
        return setting("labelfree", "pretext", "latent_dims")(wildcards)[wildcards.dataset]
    if kind.startswith("vae_"):
        return setting("labelfree", "disvae", "latent_dims")(wildcards)[wildcards.dataset]
    return lf_feature("latent_dim")(wildcards)


def lf_fact_file(scale, entry):
    """One of FACT's files (a labelfree.published entry): its URL, checksum, FACT path and `dir`."""
    block = setting("labelfree", "published", scale=scale)
    return {
        "url": block["url"].format(commit=block["commit"], path=entry["path"]),
        "checksum": entry["checksum"],
        "path": entry["path"],
        "dir": block["dir"],
    }


def lf_published_source(wildcards):
    """params of labelfree_download_published: the job's file (lf_fact_file)."""
    return lf_fact_file(wildcards.scale, lf_published_entry(wildcards))


def lf_models_note(kind, fallback):
    """params: the note of a figure built on `kind` models (autoencoder: Fig. 1; classifier:
    Fig. 5; model: Fig. 2; encoder: the pretext figures; VAE: Fig. 3): under weights:
    published, that they are FACT's published ones, not trained here; else the input
    function `fallback`'s note (lf_scale_note)."""
    runs_of = {
        "autoencoder": lf_feature_seeds,
        "classifier": lf_encoder_vs_full_seeds,
        "model": lf_example_seeds,
        "encoder": lambda wildcards: lf_pretext_seeds(wildcards)[:1],
        "VAE": lf_vae_runs,
    }[kind]

    def note(wildcards):
        if LF_WEIGHTS != "published":
            return fallback(wildcards)
        runs = len(runs_of(wildcards))
        plural = "s" if runs != 1 else ""
        what = f"{kind}{plural} ({runs} run{plural})"
        if kind == "encoder":
            what = f"encoders of run {lf_pretext_seeds(wildcards)[0]}"
        elif kind == "VAE":
            what = f"VAEs ({runs}: every loss, beta and run)"
        extra = (
            " No influence functions or TracIn: FACT publishes no training snapshots (as its --inference)."
            if kind == "model"
            else ""
        )
        return f"Models: FACT's published {what}, jwagenbach/FACT at the pinned commit, not trained here.{extra}"

    return note


def lf_example_seeds(wildcards):
    """The runs of claim 1.2's job: the config's seeds, or the published model's run."""
    if LF_WEIGHTS == "published":
        return [entry["run"] for entry in lf_published_runs("denoiser", wildcards.dataset, wildcards.scale)]
    return lf_example("seeds")(wildcards)


def lf_denoiser(wildcards):
    """Claim 1.2's model: trained (labelfree_train_denoiser) or FACT's."""
    if LF_WEIGHTS == "published":
        return lf_published_model("denoiser", **wildcards)
    return rules.labelfree_train_denoiser.output.model.format(**wildcards)


def lf_snapshots(wildcards):
    """TracIn's training snapshots of claim 1.2's model; none for FACT's (it commits none)."""
    if LF_WEIGHTS == "published":
        return []
    return rules.labelfree_train_denoiser.output.snapshots.format(**wildcards)


def lf_examples_not_run(wildcards):
    """Claim 1.2's configured explainers not run: under weights: published, those needing training."""
    explainers = lf_example("explainers")(wildcards)
    return [e for e in explainers if LF_WEIGHTS == "published" and e in LF_TRAINING_EXPLAINERS]


def lf_example_explain(wildcards):
    """params of claim 1.2's explainer job (LF_EXAMPLE_KEYS), lf_examples_not_run's explainers removed."""
    values = lf_example(keys=LF_EXAMPLE_KEYS)(wildcards)
    skipped = lf_examples_not_run(wildcards)
    return {**values, "explainers": [e for e in values["explainers"] if e not in skipped]}


def lf_example_rates(wildcards):
    """params of claim 1.2's summary job: the explainers run, the fractions, the runs."""
    fractions = lf_example("fractions")(wildcards)
    explainers = lf_example_explain(wildcards)["explainers"]
    return {"explainers": explainers, "fractions": fractions, "seeds": lf_example_seeds(wildcards)}


def lf_pretext_seeds(wildcards):
    """The runs of claims 2.1/2.2 on the job's {dataset}: the config's seeds, or FACT's runs."""
    if LF_WEIGHTS == "published":
        runs = lf_published_runs("pretext", wildcards.dataset, wildcards.scale)
        return sorted({entry["run"] for entry in runs})
    return setting("labelfree", "pretext", "seeds")(wildcards)


def lf_pretext_models(wildcards):
    """Every task's encoder of the job's run: trained (labelfree_train_pretext) or FACT's."""
    tasks = setting("labelfree", "pretext", "tasks")(wildcards)
    if LF_WEIGHTS == "published":
        return [lf_published_model(f"pretext_{task}", **wildcards) for task in tasks]
    return [rules.labelfree_train_pretext.output.model.format(task=task, **wildcards) for task in tasks]


def lf_disvae_correlations(wildcards):
    """Claim 3's per-VAE saliency correlations of the job's {dataset}: of the VAEs trained
    here (labelfree_fit_disvae) or of FACT's (labelfree_explain_disvae)."""
    step = rules.labelfree_explain_disvae if LF_WEIGHTS == "published" else rules.labelfree_fit_disvae
    return [step.output.correlations.format(**{**dict(wildcards.items()), **run}) for run in lf_vae_runs(wildcards)]


def lf_published_vae(wildcards):
    """FACT's VAE of labelfree_explain_disvae's job ({loss}, {beta}, {seed} its run)."""
    return lf_published_model(f"vae_{wildcards.loss}_beta{wildcards.beta}", **wildcards)


def lf_fact_metrics_source(wildcards):
    """params of labelfree_fact_vae_metrics: the job's metrics.csv (URL, checksum, FACT path) and `dir`."""
    files = setting("labelfree", "published", "vae_metrics", scale=wildcards.scale)
    if wildcards.dataset not in files:
        raise ConfigError(f"config: labelfree.published.vae_metrics has no '{wildcards.dataset}'")
    return lf_fact_file(wildcards.scale, files[wildcards.dataset])


def lf_fact_metrics(wildcards):
    """Claim 3's published per-file values to compare with (labelfree_write_claims): under
    weights: published at paper scale, FACT's metrics.csv of every disvae data set it has one of."""
    if LF_WEIGHTS != "published" or wildcards.scale != "paper" or LF_USER_DATA is not None:
        return []
    published = setting("labelfree", "published", "vae_metrics", scale=wildcards.scale)
    return [
        rules.labelfree_fact_vae_metrics.output.table.format(scale=wildcards.scale, dataset=run["dataset"])
        for run in lf_disvae_runs(wildcards)
        if run["dataset"] in published
    ]
