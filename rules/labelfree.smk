# Study labelfree: label-free explainability for unsupervised models (Crabbé & van der
# Schaar 2022; FACT reproduction). Claim 1.1 per data set: autoencoder -> label-free feature
# importance -> masking -> representation shift; 1.2: denoising autoencoder -> label-free
# example importance -> similarity rates; encoder vs full classifier; 2.1/2.2: pretext tasks;
# 3: beta-(TC)VAEs -> latent-unit saliency; figures, tables and claims. The MNIST data file
# is the one the lossgrad rules generate or download.


include: "labelfree_functions.smk"


wildcard_constraints:
    dataset=LF_DATASETS,
    cifar="cifar10|cifar100",
    task="reconstruction|denoising|inpainting|classification",
    loss="beta_vae|beta_tcvae",
    beta=r"\d+(\.\d+)?",


localrules:
    labelfree_download_dsprites,
    labelfree_download_ecg,
    labelfree_download_cifar,
    labelfree_download_published,


rule labelfree_generate_ecg:
    """Demo stand-in for ECG5000: ECGSYN beats, normal and with an inverted T wave (planted)."""
    output:
        data="data/demo/ecg/ecg.npz",
    params:
        ecg=setting("labelfree", "ecg", scale="demo"),
    script:
        "../scripts/labelfree/generate_ecg.py"


rule labelfree_download_ecg:
    """ECG5000 (UCR/UEA archive): TRAIN + TEST ARFF, 5000 beats; verified by a pinned checksum, else by content."""
    output:
        raw="data/paper/ecg/ECG5000.zip",
        data="data/paper/ecg/ecg.npz",
    retries: 2
    params:
        source=setting("labelfree", "ecg", keys=["urls", "checksum"], scale="paper"),
    script:
        "../scripts/labelfree/download_ecg.py"


rule labelfree_download_cifar:
    """CIFAR-10 or CIFAR-100, binary version (raw bytes, no pickle), md5-checked, extracted safely."""
    output:
        raw="data/paper/{cifar}/{cifar}-binary.tar.gz",
        data="data/paper/{cifar}/{cifar}.npz",
    retries: 2
    params:
        source=lambda wildcards: setting("labelfree", "cifar", wildcards.cifar, scale="paper"),
    script:
        "../scripts/labelfree/download_cifar.py"


rule labelfree_train_autoencoder:
    """The autoencoder of one data set and run (MNIST/CIFAR: MSE; ECG: LSTM, L1); best validation epoch kept."""
    input:
        data=LF_DATA,
    output:
        model="results/{scale}/labelfree/{dataset}/autoencoder/seed{seed}.pt",
        metrics="results/{scale}/labelfree/{dataset}/autoencoder/seed{seed}.json",
    threads: lf_feature_threads
    resources:
        **LF_FEATURE_RESOURCES,
    params:
        checkpoint="results/{scale}/labelfree/checkpoints/autoencoder/{dataset}/seed{seed}.pt",
        train=lf_feature(keys=LF_AUTOENCODER_KEYS),
    script:
        "../scripts/labelfree/train_autoencoder.py"


rule labelfree_download_published:
    """One of FACT's published models (weights: published; {kind}: autoencoder, classifier, denoiser, pretext_<task>, vae_<loss>_beta<beta>): fetched, checksummed, mapped key for key onto ours."""
    output:
        raw="data/{scale}/labelfree/published/{dataset}/{kind}_run{seed}.pt",
        model="results/{scale}/labelfree/{dataset}/published_{kind}/seed{seed}.pt",
    wildcard_constraints:
        kind=r"autoencoder|classifier|denoiser|pretext_[a-z]+|vae_[a-z_]+_beta\d+(\.\d+)?",
    retries: 2
    params:
        source=lf_published_source,
        latent_dim=lf_published_latent_dim,
    script:
        "../scripts/labelfree/download_published.py"


rule labelfree_compute_feature_importance:
    """Label-free IG, Gradient SHAP and Saliency of the test inputs of one data set and run: the attribution cache."""
    input:
        data=LF_DATA,
        model=lf_autoencoder,
    output:
        attributions="results/{scale}/labelfree/{dataset}/feature_importance/seed{seed}.npz",
    threads: lf_feature_threads
    resources:
        **LF_FEATURE_RESOURCES,
    params:
        attribution=lf_feature(keys=[*LF_ATTRIBUTION_KEYS, "baseline"]),
    script:
        "../scripts/labelfree/compute_feature_importance.py"


rule labelfree_compute_consistency_features:
    """Representation shift after masking the top-k % features of each ranking, one data set and run."""
    input:
        model=lf_autoencoder,
        attributions=rules.labelfree_compute_feature_importance.output.attributions,
    output:
        shifts="results/{scale}/labelfree/{dataset}/consistency_features/seed{seed}.csv",
    threads: lf_feature_threads
    resources:
        **LF_FEATURE_RESOURCES,
    params:
        masking=lf_feature(keys=["methods", "mask_fractions"]),
    script:
        "../scripts/labelfree/compute_consistency_features.py"


rule labelfree_summarise_consistency_features:
    """Every run's representation shifts of one data set in one table (the data of a Fig. 1 panel)."""
    input:
        shifts=per_run(rules.labelfree_compute_consistency_features.output.shifts, lf_runs("seed", lf_feature_seeds)),
    output:
        table="results/{scale}/labelfree/consistency_features_{dataset}.csv",
    script:
        "../scripts/labelfree/summarise_consistency_features.py"


rule labelfree_plot_consistency_features:
    """Fig. 1, one data set's panel: representation shift vs % masked, every method, every run."""
    input:
        table=rules.labelfree_summarise_consistency_features.output.table,
    output:
        figure=lf_report(
            "results/{scale}/labelfree/fig_feature_consistency_{dataset}.png",
            "fig_feature_consistency",
            subcategory="{dataset}",
        ),
    params:
        plot=setting("labelfree", "plot"),
        note=lf_models_note("autoencoder", lf_scale_note(lf_feature_part)),
    script:
        "../scripts/labelfree/plot_consistency_features.py"


rule labelfree_import_user_data:
    """Your own images and labels (labelfree.user_data.path: .npz or MNIST IDX folder), checked before any training, -> the MNIST file's layout."""
    input:
        source=lf_user_source,
    output:
        data="data/{scale}/user/labelfree/mnist.npz",
    params:
        user_data=setting("labelfree", "user_data"),
        examples=setting("labelfree", "consistency_examples", keys=["subtrain_size", "subtest_size"]),
        pretext=setting("labelfree", "pretext", keys=["subtrain_size"]),
    script:
        "../scripts/labelfree/import_user_data.py"


rule labelfree_generate_dsprites:
    """Demo stand-in for dSprites: sprites rendered procedurally from their five factors."""
    output:
        data="data/demo/dsprites/dsprites.npz",
    params:
        sprites=setting("labelfree", "disvae", keys=["dsprites_n", "dsprites_size"], scale="demo"),
    script:
        "../scripts/labelfree/generate_dsprites.py"


rule labelfree_download_dsprites:
    """The official dSprites npz (DeepMind), md5-checked, converted without unpickling."""
    output:
        raw="data/paper/dsprites/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz",
        data="data/paper/dsprites/dsprites.npz",
    retries: 2
    params:
        source=setting("labelfree", "dsprites", keys=["url", "checksum"], scale="paper"),
    script:
        "../scripts/labelfree/download_dsprites.py"


include: "labelfree_experiments.smk"


rule labelfree_write_claims:
    """The labelfree claims: 1.1, 1.2, 2.1, 2.2 and 3 per data set, encoder vs full on MNIST."""
    input:
        features=per_run(rules.labelfree_summarise_consistency_features.output.table, lf_feature_runs),
        disentanglement=per_run(
            rules.labelfree_summarise_disvae.output.table,
            lf_disvae_runs,
        ),
        examples=per_run(rules.labelfree_summarise_consistency_examples.output.table, lf_example_runs),
        encoder_vs_full=rules.labelfree_summarise_encoder_vs_full.output.table,
        pretext=per_run(rules.labelfree_summarise_pretext.output.table, lf_pretext_runs),
        fact_vae_metrics=lf_fact_metrics,
    output:
        claims=lf_report("results/{scale}/labelfree/claims.csv", "claims"),
    params:
        features=lf_feature_runs,
        examples=lf_example_runs,
        pretext=lf_pretext_runs,
        user_data=LF_USER_DATA is not None,
        examples_not_run=list(LF_TRAINING_EXPLAINERS) if LF_WEIGHTS == "published" else [],
        fact_tolerance=setting("labelfree", "published", "vae_metrics_tolerance"),
    script:
        "../scripts/labelfree/write_claims.py"


rule labelfree_consistency_features:
    """Named target of FACT's `consistency_features` experiment, every data set of the scale."""
    input:
        lf_experiment_targets(SCALE)["consistency_features"],


rule labelfree_consistency_examples:
    """Named target of FACT's `consistency_examples` experiment, every data set of the scale."""
    input:
        lf_experiment_targets(SCALE)["consistency_examples"],


rule labelfree_encoder_vs_full:
    """Named target of FACT's encoder vs full model extension (MNIST)."""
    input:
        lf_experiment_targets(SCALE)["encoder_vs_full"],


rule labelfree_pretext:
    """Named target of FACT's `pretext` experiment (MNIST; paper: also CIFAR-10/100)."""
    input:
        lf_experiment_targets(SCALE)["pretext"],


rule labelfree_disvae:
    """Named target of FACT's `disvae` experiments (MNIST and dSprites; paper: also CIFAR-10/100)."""
    input:
        lf_experiment_targets(SCALE)["disvae"],
