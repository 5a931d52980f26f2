# labelfree, the experiments after claim 1.1 and claim 3 (included by rules/labelfree.smk):
# 1.2 (per data set) denoising autoencoder -> label-free example importance -> similarity
# rates; encoder vs full classifier (MNIST); 2.1/2.2 pretext tasks; 3 beta-(TC)VAEs -> latent-unit saliency.


rule labelfree_train_denoiser:
    """The autoencoder of claim 1.2 of one data set and run (denoising on MNIST and CIFAR, the LSTM one on ECG), with its TracIn snapshots."""
    input:
        data=LF_DATA,
    output:
        model="results/{scale}/labelfree/{dataset}/denoiser/seed{seed}.pt",
        metrics="results/{scale}/labelfree/{dataset}/denoiser/seed{seed}.json",
        snapshots=directory("results/{scale}/labelfree/{dataset}/denoiser/seed{seed}_snapshots"),
    threads: lf_example_threads
    resources:
        **LF_EXAMPLE_RESOURCES,
    params:
        checkpoint="results/{scale}/labelfree/checkpoints/denoiser/{dataset}/seed{seed}.pt",
        train=lf_example(keys=LF_DENOISER_KEYS),
    script:
        "../scripts/labelfree/train_denoiser.py"


# The snapshots directory is declared alone, without files_under(): it lists the snapshot
# names on disk, and a denoiser re-run with other epochs or checkpoint_interval renames them,
# so this job would fail on the stale names ("Missing files after 5 seconds"). The workflow
# alone writes the directory, and its rule's output mtime moves with every re-run.
rule labelfree_compute_example_importance:
    """Influence functions, TracIn, SimplEx, DKNN and cosine scores of one data set and run (FACT's model: no IF, TracIn): the cache."""
    input:
        data=LF_DATA,
        model=lf_denoiser,
        snapshots=lf_snapshots,
    output:
        scores="results/{scale}/labelfree/{dataset}/example_importance/seed{seed}.npz",
    threads: lf_example_threads
    resources:
        **LF_EXAMPLE_RESOURCES,
    params:
        explain=lf_example_explain,
    script:
        "../scripts/labelfree/compute_example_importance.py"


rule labelfree_summarise_consistency_examples:
    """Similarity rates of every run, explainer, fraction and most/least, one data set (Fig. 2 data)."""
    input:
        scores=per_run(
            rules.labelfree_compute_example_importance.output.scores,
            lf_runs("seed", lf_example_seeds),
        ),
    output:
        table="results/{scale}/labelfree/consistency_examples_{dataset}.csv",
    params:
        rates=lf_example_rates,
    script:
        "../scripts/labelfree/summarise_consistency_examples.py"


rule labelfree_plot_consistency_examples:
    """Fig. 2, one data set: similarity rate vs % of examples selected, most vs least important."""
    input:
        table=rules.labelfree_summarise_consistency_examples.output.table,
    output:
        figure=lf_report(
            "results/{scale}/labelfree/fig_example_consistency_{dataset}.png",
            "fig_example_consistency",
            subcategory="{dataset}",
        ),
    params:
        plot=setting("labelfree", "plot"),
        note=lf_models_note("model", lf_scale_note(lf_example_part)),
    script:
        "../scripts/labelfree/plot_consistency_examples.py"


rule labelfree_train_classifier:
    """The MNIST classifier of one run: the encoder plus a linear layer, cross-entropy."""
    input:
        data=LF_MNIST,
    output:
        model="results/{scale}/labelfree/mnist/classifier/seed{seed}.pt",
        metrics="results/{scale}/labelfree/mnist/classifier/seed{seed}.json",
    threads: job_threads("labelfree", "encoder_vs_full")
    resources:
        **job_resources("labelfree", "encoder_vs_full"),
    params:
        checkpoint="results/{scale}/labelfree/checkpoints/classifier/seed{seed}.pt",
        train=setting("labelfree", "encoder_vs_full", keys=LF_CLASSIFIER_KEYS),
    script:
        "../scripts/labelfree/train_classifier.py"


rule labelfree_compute_encoder_vs_full:
    """Label-free attributions of the encoder and of the full classifier and their per-image correlations, one run."""
    input:
        data=LF_MNIST,
        model=lf_classifier,
    output:
        attributions="results/{scale}/labelfree/mnist/encoder_vs_full/seed{seed}.npz",
        correlations="results/{scale}/labelfree/mnist/encoder_vs_full/seed{seed}.csv",
    threads: job_threads("labelfree", "encoder_vs_full")
    resources:
        **job_resources("labelfree", "encoder_vs_full"),
    params:
        attribution=setting("labelfree", "encoder_vs_full", keys=LF_ATTRIBUTION_KEYS),
    script:
        "../scripts/labelfree/compute_encoder_vs_full.py"


rule labelfree_summarise_encoder_vs_full:
    """Every run's per-image correlations in one table (the data of Fig. 5)."""
    input:
        correlations=per_run(
            rules.labelfree_compute_encoder_vs_full.output.correlations,
            lf_runs("seed", lf_encoder_vs_full_seeds),
        ),
    output:
        table="results/{scale}/labelfree/encoder_vs_full_mnist.csv",
    script:
        "../scripts/labelfree/summarise_encoder_vs_full.py"


rule labelfree_plot_encoder_vs_full:
    """Fig. 5 (MNIST): per-image correlation of encoder and full-model attributions."""
    input:
        table=rules.labelfree_summarise_encoder_vs_full.output.table,
    output:
        figure=lf_report("results/{scale}/labelfree/fig_encoder_vs_full_mnist.png", "fig_encoder_vs_full_mnist"),
    params:
        plot=setting("labelfree", "plot"),
        note=lf_models_note("classifier", lf_scale_note("encoder_vs_full", published=True)),
    script:
        "../scripts/labelfree/plot_encoder_vs_full.py"


rule labelfree_train_pretext:
    """The encoder of one run on one data set trained on one task: a pretext autoencoder or the classifier."""
    input:
        data=LF_DATA,
    output:
        model="results/{scale}/labelfree/{dataset}/pretext/{task}/seed{seed}.pt",
        metrics="results/{scale}/labelfree/{dataset}/pretext/{task}/seed{seed}.json",
    threads: job_threads("labelfree", "pretext")
    resources:
        **job_resources("labelfree", "pretext"),
    params:
        checkpoint="results/{scale}/labelfree/checkpoints/pretext/{dataset}/{task}/seed{seed}.pt",
        train=lf_pretext_train,
    script:
        "../scripts/labelfree/train_pretext.py"


rule labelfree_compute_pretext_importance:
    """Gradient SHAP feature and DKNN example importance of every task's encoder, one run on one data set."""
    input:
        data=LF_DATA,
        models=lf_pretext_models,
    output:
        importance="results/{scale}/labelfree/{dataset}/pretext/importance_seed{seed}.npz",
        correlations="results/{scale}/labelfree/{dataset}/pretext/correlations_seed{seed}.csv",
    threads: job_threads("labelfree", "pretext")
    resources:
        **job_resources("labelfree", "pretext"),
    params:
        tasks=setting("labelfree", "pretext", "tasks"),
        importance=setting("labelfree", "pretext", keys=LF_TASK_IMPORTANCE_KEYS),
    script:
        "../scripts/labelfree/compute_pretext_importance.py"


rule labelfree_summarise_pretext:
    """Tables 2-4, one data set: correlations between tasks, every run, as CSV and LaTeX (Pearson; Spearman)."""
    input:
        correlations=per_run(
            rules.labelfree_compute_pretext_importance.output.correlations,
            lf_runs("seed", lf_pretext_seeds),
        ),
    output:
        table="results/{scale}/labelfree/pretext_{dataset}.csv",
        latex=lf_report("results/{scale}/labelfree/pretext_{dataset}.tex", "pretext", subcategory="{dataset}"),
        spearman=lf_report(
            "results/{scale}/labelfree/pretext_{dataset}_spearman.tex", "pretext_spearman", subcategory="{dataset}"
        ),
    params:
        tasks=setting("labelfree", "pretext", "tasks"),
    script:
        "../scripts/labelfree/summarise_pretext.py"


rule labelfree_plot_pretext:
    """Claims 2.1/2.2's figures, one data set, the first run: each task's saliency maps and top training example."""
    input:
        importance=lambda wildcards: rules.labelfree_compute_pretext_importance.output.importance.format(
            seed=lf_pretext_seeds(wildcards)[0], **wildcards
        ),
    output:
        saliency=lf_report(
            "results/{scale}/labelfree/fig_pretext_saliency_{dataset}.png",
            "fig_pretext_saliency",
            subcategory="{dataset}",
        ),
        examples=lf_report(
            "results/{scale}/labelfree/fig_pretext_examples_{dataset}.png",
            "fig_pretext_examples",
            subcategory="{dataset}",
        ),
    params:
        tasks=setting("labelfree", "pretext", "tasks"),
        n_plots=setting("labelfree", "pretext", "n_plots"),
        seed=lambda wildcards: lf_pretext_seeds(wildcards)[0],
        note=lf_models_note("encoder", lf_scale_note("pretext")),
    script:
        "../scripts/labelfree/plot_pretext.py"


rule labelfree_fit_disvae:
    """One beta-VAE or beta-TCVAE and the saliency correlations of its latent units."""
    input:
        data=LF_DATA,
    output:
        model="results/{scale}/labelfree/disvae/{dataset}/{loss}_beta{beta}_seed{seed}.pt",
        record="results/{scale}/labelfree/disvae/{dataset}/{loss}_beta{beta}_seed{seed}.json",
        correlations="results/{scale}/labelfree/disvae/{dataset}/{loss}_beta{beta}_seed{seed}.csv",
    threads: job_threads("labelfree", "disvae")
    resources:
        **job_resources("labelfree", "disvae"),
    params:
        checkpoint="results/{scale}/labelfree/checkpoints/disvae/{dataset}/{loss}_beta{beta}_seed{seed}.pt",
        fit=lf_vae_fit,
    script:
        "../scripts/labelfree/fit_disvae.py"


rule labelfree_explain_disvae:
    """One of FACT's published VAEs (weights: published) and the saliency correlations of its latent units."""
    input:
        data=LF_DATA,
        model=lf_published_vae,
    output:
        correlations="results/{scale}/labelfree/disvae/{dataset}/published_{loss}_beta{beta}_seed{seed}.csv",
    threads: job_threads("labelfree", "disvae")
    resources:
        **job_resources("labelfree", "disvae"),
    params:
        explain=setting("labelfree", "disvae", keys=["n_test", "shap_samples", "mnist_to_32"]),
    script:
        "../scripts/labelfree/explain_disvae.py"


rule labelfree_fact_vae_metrics:
    """FACT's published metrics.csv of its VAEs on one data set (weights: published): fetched, checksummed, one row per VAE file."""
    output:
        raw="data/{scale}/labelfree/published/{dataset}/vae_metrics.csv",
        table="results/{scale}/labelfree/disvae/{dataset}/fact_metrics.csv",
    retries: 2
    params:
        source=lf_fact_metrics_source,
    script:
        "../scripts/labelfree/fact_vae_metrics.py"


rule labelfree_summarise_disvae:
    """Every VAE's per-image saliency correlations of one data set in one table (the data of Fig. 3)."""
    input:
        correlations=lf_disvae_correlations,
    output:
        table="results/{scale}/labelfree/disentanglement_{dataset}.csv",
    script:
        "../scripts/labelfree/summarise_disvae.py"


rule labelfree_plot_disvae:
    """Fig. 3, one data set: saliency correlation between latent units vs beta, beta-VAE vs beta-TCVAE."""
    input:
        table=rules.labelfree_summarise_disvae.output.table,
    output:
        figure=lf_report(
            "results/{scale}/labelfree/fig_disentanglement_{dataset}.png",
            "fig_disentanglement",
            subcategory="{dataset}",
        ),
    params:
        plot=setting("labelfree", "plot"),
        note=lf_models_note("VAE", lf_scale_note("disvae", published=True)),
    script:
        "../scripts/labelfree/plot_disvae.py"
