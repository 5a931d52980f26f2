# Study labelfree: label-free explainability for unsupervised models (Crabbé & van der
# Schaar 2022; FACT reproduction). So far claims 1.1 and 1.2 on MNIST: autoencoders ->
# label-free feature importance -> masking -> representation shift; denoising autoencoders
# -> label-free example importance -> similarity rates; figures + claims.
# The MNIST data file is the one the lossgrad rules generate or download.

include: "labelfree_functions.smk"



localrules:
    labelfree_download_dsprites,
    labelfree_download_ecg,
    labelfree_download_cifar,


rule labelfree_generate_ecg:
    """Demo stand-in for ECG5000: ECGSYN beats, normal and with an inverted T wave (planted)."""
    output:
        data="data/demo/ecg/ecg.npz",
    params:
        ecg=config["labelfree"]["ecg"]["demo"],
    script:
        "../scripts/labelfree/generate_ecg.py"


rule labelfree_download_ecg:
    """ECG5000 (UCR/UEA archive): TRAIN + TEST ARFF, 5000 beats; verified by content or a pinned checksum."""
    output:
        raw="data/paper/ecg/ECG5000.zip",
        data="data/paper/ecg/ecg.npz",
    params:
        checksum=config["labelfree"]["ecg"]["paper"]["checksum"],
    retries: 2
    script:
        "../scripts/labelfree/download_ecg.py"


rule labelfree_download_cifar:
    """CIFAR-10 or CIFAR-100, binary version (raw bytes, no pickle), md5-checked, extracted safely."""
    output:
        raw="data/paper/{cifar}/{cifar}-binary.tar.gz",
        data="data/paper/{cifar}/{cifar}.npz",
    wildcard_constraints:
        cifar="cifar10|cifar100",
    retries: 2
    script:
        "../scripts/labelfree/download_cifar.py"


rule labelfree_train_autoencoder:
    """The autoencoder of one data set and run (MNIST/CIFAR: MSE; ECG: LSTM, L1); best validation epoch kept."""
    input:
        data=lf_data,
    output:
        model="results/{scale}/labelfree/{dataset}/autoencoder/seed{seed}.pt",
        metrics="results/{scale}/labelfree/{dataset}/autoencoder/seed{seed}.json",
    wildcard_constraints:
        dataset=LF_FEATURE_DATASETS,
    params:
        checkpoint="results/{scale}/labelfree/checkpoints/autoencoder/{dataset}/seed{seed}.pt",
        train=lambda wc: {
            "dataset": wc.dataset,
            **{
                key: lf_features(wc)[key]
                for key in (
                    "latent_dim", "loss", "positional_decoder", "epochs", "batch_size", "lr", "weight_decay",
                    "valid_fraction",
                )
            },
        },
    threads: lf_feature_resource("threads")
    resources:
        mem_mb=lf_feature_resource("mem_mb"),
        runtime=lf_feature_resource("runtime"),
        gpu=lf_feature_resource("gpu"),
    script:
        "../scripts/labelfree/train_autoencoder.py"


rule labelfree_compute_feature_importance:
    """Label-free IG, Gradient SHAP and Saliency of the test inputs of one data set and run: the attribution cache."""
    input:
        data=lf_data,
        model="results/{scale}/labelfree/{dataset}/autoencoder/seed{seed}.pt",
    output:
        attributions="results/{scale}/labelfree/{dataset}/feature_importance/seed{seed}.npz",
    wildcard_constraints:
        dataset=LF_FEATURE_DATASETS,
    params:
        attribution=lambda wc: {
            "dataset": wc.dataset,
            **{
                key: lf_features(wc)[key]
                for key in ("methods", "n_test", "ig_steps", "shap_samples", "internal_batch_size", "baseline")
            },
        },
    threads: lf_feature_resource("threads")
    resources:
        mem_mb=lf_feature_resource("mem_mb"),
        runtime=lf_feature_resource("runtime"),
        gpu=lf_feature_resource("gpu"),
    script:
        "../scripts/labelfree/compute_feature_importance.py"


rule labelfree_compute_consistency_features:
    """Representation shift after masking the top-k % features of each ranking, one data set and run."""
    input:
        model="results/{scale}/labelfree/{dataset}/autoencoder/seed{seed}.pt",
        attributions="results/{scale}/labelfree/{dataset}/feature_importance/seed{seed}.npz",
    output:
        shifts="results/{scale}/labelfree/{dataset}/consistency_features/seed{seed}.csv",
    wildcard_constraints:
        dataset=LF_FEATURE_DATASETS,
    params:
        masking=lambda wc: {"methods": lf_features(wc)["methods"], "mask_fractions": lf_features(wc)["mask_fractions"]},
    threads: lf_feature_resource("threads")
    resources:
        mem_mb=lf_feature_resource("mem_mb"),
        runtime=lf_feature_resource("runtime"),
        gpu=lf_feature_resource("gpu"),
    script:
        "../scripts/labelfree/compute_consistency_features.py"


rule labelfree_summarise_consistency_features:
    """Every run's representation shifts of one data set in one table (the data of a Fig. 1 panel)."""
    input:
        shifts=lf_per_seed("results/{scale}/labelfree/{dataset}/consistency_features/seed{seed}.csv"),
    output:
        table="results/{scale}/labelfree/consistency_features_{dataset}.csv",
    wildcard_constraints:
        dataset=LF_FEATURE_DATASETS,
    script:
        "../scripts/labelfree/summarise_consistency_features.py"


rule labelfree_plot_consistency_features:
    """Fig. 1, one data set's panel: representation shift vs % masked, every method, every run."""
    input:
        table="results/{scale}/labelfree/consistency_features_{dataset}.csv",
    output:
        figure=report(
            "results/{scale}/labelfree/fig_feature_consistency_{dataset}.png",
            caption="../report/labelfree/fig_feature_consistency.rst",
            category="labelfree",
            subcategory="{dataset}",
        ),
    wildcard_constraints:
        dataset=LF_FEATURE_DATASETS,
    params:
        dataset_name=lambda wc: LF_DATASET_NAMES[wc.dataset],
        width=config["labelfree"]["plot"]["width"],
        height=config["labelfree"]["plot"]["height"],
    script:
        "../scripts/labelfree/plot_consistency_features.py"


rule labelfree_train_denoiser:
    """The denoising MNIST autoencoder of one run, with its TracIn snapshots."""
    input:
        data="data/{scale}/mnist/mnist.npz",
    output:
        model="results/{scale}/labelfree/mnist/denoiser/seed{seed}.pt",
        metrics="results/{scale}/labelfree/mnist/denoiser/seed{seed}.json",
        snapshots=directory("results/{scale}/labelfree/mnist/denoiser/seed{seed}_snapshots"),
    params:
        checkpoint="results/{scale}/labelfree/checkpoints/denoiser/seed{seed}.pt",
        train=lambda wc: {
            key: lf_examples(wc)[key]
            for key in ("latent_dim", "epochs", "batch_size", "lr", "weight_decay", "noise_level",
                        "checkpoint_interval")
        },
    threads: job_threads("labelfree", "consistency_examples")
    resources:
        **job_resources("labelfree", "consistency_examples"),
    script:
        "../scripts/labelfree/train_denoiser.py"


rule labelfree_compute_example_importance:
    """Influence functions, TracIn, SimplEx, DKNN and cosine scores of one run: the cache."""
    input:
        data="data/{scale}/mnist/mnist.npz",
        model="results/{scale}/labelfree/mnist/denoiser/seed{seed}.pt",
        snapshots="results/{scale}/labelfree/mnist/denoiser/seed{seed}_snapshots",
    output:
        scores="results/{scale}/labelfree/mnist/example_importance/seed{seed}.npz",
    params:
        explain=lambda wc: {
            key: lf_examples(wc)[key]
            for key in ("explainers", "subtrain_size", "subtest_size", "recursion_depth", "damping", "scale",
                        "simplex_epochs")
        },
    threads: job_threads("labelfree", "consistency_examples")
    resources:
        **job_resources("labelfree", "consistency_examples"),
    script:
        "../scripts/labelfree/compute_example_importance.py"


rule labelfree_summarise_consistency_examples:
    """Similarity rates of every run, explainer, fraction and most/least (Fig. 2 data)."""
    input:
        scores=lf_examples_per_seed("results/{scale}/labelfree/mnist/example_importance/seed{seed}.npz"),
    output:
        table="results/{scale}/labelfree/consistency_examples_mnist.csv",
    params:
        explainers=lambda wc: lf_examples(wc)["explainers"],
        fractions=lambda wc: lf_examples(wc)["fractions"],
        seeds=lambda wc: lf_examples(wc)["seeds"],
    script:
        "../scripts/labelfree/summarise_consistency_examples.py"


rule labelfree_plot_consistency_examples:
    """Fig. 2 (MNIST): similarity rate vs % of examples selected, most vs least important."""
    input:
        table="results/{scale}/labelfree/consistency_examples_mnist.csv",
    output:
        figure=report(
            "results/{scale}/labelfree/fig_example_consistency_mnist.png",
            caption="../report/labelfree/fig_example_consistency_mnist.rst",
            category="labelfree",
        ),
    params:
        width=config["labelfree"]["plot"]["width"],
        height=config["labelfree"]["plot"]["height"],
    script:
        "../scripts/labelfree/plot_consistency_examples.py"


rule labelfree_train_classifier:
    """The MNIST classifier of one run: the encoder plus a linear layer, cross-entropy."""
    input:
        data="data/{scale}/mnist/mnist.npz",
    output:
        model="results/{scale}/labelfree/mnist/classifier/seed{seed}.pt",
        metrics="results/{scale}/labelfree/mnist/classifier/seed{seed}.json",
    params:
        checkpoint="results/{scale}/labelfree/checkpoints/classifier/seed{seed}.pt",
        train=lambda wc: {
            key: lf_encoder_vs_full(wc)[key] for key in ("latent_dim", "epochs", "batch_size", "lr", "weight_decay")
        },
    threads: job_threads("labelfree", "encoder_vs_full")
    resources:
        **job_resources("labelfree", "encoder_vs_full"),
    script:
        "../scripts/labelfree/train_classifier.py"


rule labelfree_compute_encoder_vs_full:
    """Label-free attributions of the encoder and of the full classifier, and their
    per-image correlations, for one run."""
    input:
        data="data/{scale}/mnist/mnist.npz",
        model="results/{scale}/labelfree/mnist/classifier/seed{seed}.pt",
    output:
        attributions="results/{scale}/labelfree/mnist/encoder_vs_full/seed{seed}.npz",
        correlations="results/{scale}/labelfree/mnist/encoder_vs_full/seed{seed}.csv",
    params:
        attribution=lambda wc: {
            key: lf_encoder_vs_full(wc)[key]
            for key in ("methods", "n_test", "ig_steps", "shap_samples", "internal_batch_size")
        },
    threads: job_threads("labelfree", "encoder_vs_full")
    resources:
        **job_resources("labelfree", "encoder_vs_full"),
    script:
        "../scripts/labelfree/compute_encoder_vs_full.py"


rule labelfree_summarise_encoder_vs_full:
    """Every run's per-image correlations in one table (the data of Fig. 5)."""
    input:
        correlations=lf_evf_per_seed("results/{scale}/labelfree/mnist/encoder_vs_full/seed{seed}.csv"),
    output:
        table="results/{scale}/labelfree/encoder_vs_full_mnist.csv",
    script:
        "../scripts/labelfree/summarise_encoder_vs_full.py"


rule labelfree_plot_encoder_vs_full:
    """Fig. 5 (MNIST): per-image correlation of encoder and full-model attributions."""
    input:
        table="results/{scale}/labelfree/encoder_vs_full_mnist.csv",
    output:
        figure=report(
            "results/{scale}/labelfree/fig_encoder_vs_full_mnist.png",
            caption="../report/labelfree/fig_encoder_vs_full_mnist.rst",
            category="labelfree",
        ),
    params:
        width=config["labelfree"]["plot"]["width"],
        height=config["labelfree"]["plot"]["height"],
    script:
        "../scripts/labelfree/plot_encoder_vs_full.py"


rule labelfree_train_pretext:
    """The encoder of one run trained on one task: a pretext autoencoder or the classifier."""
    input:
        data="data/{scale}/mnist/mnist.npz",
    output:
        model="results/{scale}/labelfree/mnist/pretext/{task}/seed{seed}.pt",
        metrics="results/{scale}/labelfree/mnist/pretext/{task}/seed{seed}.json",
    wildcard_constraints:
        task="reconstruction|denoising|inpainting|classification",
    params:
        checkpoint="results/{scale}/labelfree/checkpoints/pretext/{task}/seed{seed}.pt",
        train=lambda wc: {
            key: lf_pretext(wc)[key]
            for key in ("latent_dim", "epochs", "batch_size", "lr", "weight_decay", "noise_level", "mask_proportion")
        },
    threads: job_threads("labelfree", "pretext")
    resources:
        **job_resources("labelfree", "pretext"),
    script:
        "../scripts/labelfree/train_pretext.py"


rule labelfree_compute_pretext_importance:
    """Gradient SHAP feature and DKNN example importance of every task's encoder, one run."""
    input:
        unpack(lambda wc: {"data": f"data/{wc.scale}/mnist/mnist.npz", **lf_pretext_models(wc)}),
    output:
        importance="results/{scale}/labelfree/mnist/pretext/importance_seed{seed}.npz",
        correlations="results/{scale}/labelfree/mnist/pretext/correlations_seed{seed}.csv",
    params:
        tasks=lambda wc: lf_pretext(wc)["tasks"],
        importance=lambda wc: {
            key: lf_pretext(wc)[key] for key in ("n_test", "subtrain_size", "shap_samples", "internal_batch_size")
        },
    threads: job_threads("labelfree", "pretext")
    resources:
        **job_resources("labelfree", "pretext"),
    script:
        "../scripts/labelfree/compute_pretext_importance.py"


rule labelfree_summarise_pretext:
    """Tables 2-4 (MNIST): correlations between tasks, every run, as CSV and LaTeX."""
    input:
        correlations=lf_pretext_per_seed("results/{scale}/labelfree/mnist/pretext/correlations_seed{seed}.csv"),
    output:
        table="results/{scale}/labelfree/pretext_mnist.csv",
        latex=report("results/{scale}/labelfree/pretext_mnist.tex", caption="../report/labelfree/pretext_mnist.rst",
                     category="labelfree"),
    params:
        tasks=lambda wc: lf_pretext(wc)["tasks"],
    script:
        "../scripts/labelfree/summarise_pretext.py"


rule labelfree_generate_dsprites:
    """Demo stand-in for dSprites: sprites rendered procedurally from their five factors."""
    output:
        data="data/demo/dsprites/dsprites.npz",
    params:
        n=config["labelfree"]["disvae"]["demo"]["dsprites_n"],
        size=config["labelfree"]["disvae"]["demo"]["dsprites_size"],
    script:
        "../scripts/labelfree/generate_dsprites.py"


rule labelfree_download_dsprites:
    """The official dSprites npz (DeepMind), md5-checked, converted without unpickling."""
    output:
        raw="data/paper/dsprites/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz",
        data="data/paper/dsprites/dsprites.npz",
    retries: 2
    script:
        "../scripts/labelfree/download_dsprites.py"


rule labelfree_fit_disvae:
    """One beta-VAE or beta-TCVAE and the saliency correlations of its latent units."""
    input:
        data=lambda wc: f"data/{wc.scale}/{'mnist/mnist' if wc.dataset == 'mnist' else 'dsprites/dsprites'}.npz",
    output:
        model="results/{scale}/labelfree/disvae/{dataset}/{loss}_beta{beta}_seed{seed}.pt",
        record="results/{scale}/labelfree/disvae/{dataset}/{loss}_beta{beta}_seed{seed}.json",
        correlations="results/{scale}/labelfree/disvae/{dataset}/{loss}_beta{beta}_seed{seed}.csv",
    wildcard_constraints:
        dataset="mnist|dsprites",
        loss="beta_vae|beta_tcvae",
        beta=r"\d+(\.\d+)?",
    params:
        checkpoint="results/{scale}/labelfree/checkpoints/disvae/{dataset}/{loss}_beta{beta}_seed{seed}.pt",
        fit=lambda wc: {
            "latent_dim": lf_disvae(wc)["latent_dims"][wc.dataset],
            **{key: lf_disvae(wc)[key] for key in ("epochs", "batch_size", "lr", "n_test", "shap_samples")},
        },
    threads: job_threads("labelfree", "disvae")
    resources:
        **job_resources("labelfree", "disvae"),
    script:
        "../scripts/labelfree/fit_disvae.py"


rule labelfree_summarise_disvae:
    """Every VAE's per-image saliency correlations of one data set in one table (the data of Fig. 3)."""
    input:
        correlations=lf_disvae_runs,
    output:
        table="results/{scale}/labelfree/disentanglement_{dataset}.csv",
    wildcard_constraints:
        dataset="mnist|dsprites",
    script:
        "../scripts/labelfree/summarise_disvae.py"


rule labelfree_plot_disvae:
    """Fig. 3, one data set: saliency correlation between latent units vs beta, beta-VAE vs beta-TCVAE."""
    input:
        table="results/{scale}/labelfree/disentanglement_{dataset}.csv",
    output:
        figure=report(
            "results/{scale}/labelfree/fig_disentanglement_{dataset}.png",
            caption="../report/labelfree/fig_disentanglement.rst",
            category="labelfree",
            subcategory="{dataset}",
        ),
    wildcard_constraints:
        dataset="mnist|dsprites",
    params:
        width=config["labelfree"]["plot"]["width"],
        height=config["labelfree"]["plot"]["height"],
    script:
        "../scripts/labelfree/plot_disvae.py"


rule labelfree_write_claims:
    """The labelfree claims: 1.1 per data set, 1.2, 2.1, 2.2 and encoder vs full on MNIST, 3 per data set."""
    input:
        unpack(lf_feature_tables),
        unpack(lf_disentanglement_tables),
        examples_mnist="results/{scale}/labelfree/consistency_examples_mnist.csv",
        encoder_vs_full_mnist="results/{scale}/labelfree/encoder_vs_full_mnist.csv",
        pretext_mnist="results/{scale}/labelfree/pretext_mnist.csv",
    output:
        claims=report("results/{scale}/labelfree/claims.csv", caption="../report/labelfree/claims.rst",
                      category="labelfree"),
    params:
        scale="{scale}",
    script:
        "../scripts/labelfree/write_claims.py"


rule labelfree_consistency_features:
    """Named target of FACT's `consistency_features` experiment, every data set of the scale."""
    input:
        lf_named_targets(SCALE, "feature_consistency"),


rule labelfree_consistency_examples:
    """Named target of FACT's `consistency_examples` experiment (MNIST)."""
    input:
        f"results/{SCALE}/labelfree/fig_example_consistency_mnist.png",
        f"results/{SCALE}/labelfree/consistency_examples_mnist.csv",


rule labelfree_encoder_vs_full:
    """Named target of FACT's encoder vs full model extension (MNIST)."""
    input:
        f"results/{SCALE}/labelfree/fig_encoder_vs_full_mnist.png",
        f"results/{SCALE}/labelfree/encoder_vs_full_mnist.csv",


rule labelfree_pretext:
    """Named target of FACT's `pretext` experiment (MNIST)."""
    input:
        f"results/{SCALE}/labelfree/pretext_mnist.csv",
        f"results/{SCALE}/labelfree/pretext_mnist.tex",


rule labelfree_disvae:
    """Named target of FACT's `disvae` experiments (MNIST and dSprites)."""
    input:
        lf_named_targets(SCALE, "disentanglement"),


