# Study lossgrad: loss-gradient attributions under ROAR/KAR occlusion (MNIST, then SVD below).
# Chain: generate/download MNIST -> train three heads x seeds -> loss-gradient cache ->
# occlusion sweep -> aggregate tables -> figures + claims.


include: "lossgrad_functions.smk"


wildcard_constraints:
    variant="softmax10|softmax2|sigmoid2",
    mnist_file="(train|t10k)-(images-idx3|labels-idx1)-ubyte",


rule lossgrad_generate_mnist:
    """Demo stand-in for MNIST: scikit-learn's digits, upsampled to 28x28 (no network)."""
    output:
        data="data/demo/mnist/mnist.npz",
    params:
        seed=setting("lossgrad", "mnist", "split_seed", scale="demo"),
        test_fraction=setting("lossgrad", "mnist", "test_fraction", scale="demo"),
    script:
        "../scripts/lossgrad/generate_mnist.py"


rule lossgrad_download_mnist:
    """One MNIST IDX archive from torchvision's mirrors, md5-checked (a local rule)."""
    output:
        archive="data/paper/mnist/raw/{mnist_file}.gz",
    retries: 2
    localrule: True
    script:
        "../scripts/lossgrad/download_mnist.py"


rule lossgrad_prepare_mnist:
    """The four MNIST IDX files -> the study's mnist.npz (same layout as the demo's)."""
    input:
        archives=expand(rules.lossgrad_download_mnist.output.archive, mnist_file=LG_MNIST_FILES),
    output:
        data="data/paper/mnist/mnist.npz",
    script:
        "../scripts/lossgrad/prepare_mnist.py"


rule lossgrad_train_classifier:
    """Train Net for one head and seed (Adadelta + StepLR), resumable from its checkpoint."""
    input:
        data=LG_MNIST,
    output:
        model="results/{scale}/lossgrad/models/{variant}/seed{seed}.pt",
        metrics="results/{scale}/lossgrad/models/{variant}/seed{seed}.json",
    threads: job_threads("lossgrad", "mnist")
    resources:
        **job_resources("lossgrad", "mnist"),
    params:
        checkpoint="results/{scale}/lossgrad/checkpoints/{variant}/seed{seed}.pt",
        train=setting("lossgrad", "mnist", keys=LG_MNIST_TRAIN),
    script:
        "../scripts/lossgrad/train_classifier.py"


rule lossgrad_compute_gradients:
    """Loss gradients dL/dx of every test image, batched: the declared gradient cache."""
    input:
        data=LG_MNIST,
        model=rules.lossgrad_train_classifier.output.model,
    output:
        grads="results/{scale}/lossgrad/gradients/{variant}/seed{seed}.npz",
    threads: job_threads("lossgrad", "mnist")
    resources:
        **job_resources("lossgrad", "mnist"),
    params:
        internal_batch_size=setting("lossgrad", "mnist", "gradient_batch_size"),
    script:
        "../scripts/lossgrad/compute_gradients.py"


rule lossgrad_compute_occlusion:
    """Occlusion sweep of one model: methods x replacements x orders x levels."""
    input:
        data=LG_MNIST,
        model=rules.lossgrad_train_classifier.output.model,
        grads=rules.lossgrad_compute_gradients.output.grads,
    output:
        curves="results/{scale}/lossgrad/occlusion/{variant}/seed{seed}.csv",
        signs="results/{scale}/lossgrad/occlusion/{variant}/seed{seed}_signs.csv",
    threads: job_threads("lossgrad", "mnist")
    resources:
        **job_resources("lossgrad", "mnist"),
    params:
        sweep=lg_sweep("mnist", LG_MNIST_SWEEP),
    script:
        "../scripts/lossgrad/compute_occlusion.py"


rule lossgrad_aggregate_occlusion:
    """All sweeps -> mnist_roar.csv, the sign table, and the clean accuracy of every model."""
    input:
        curves=per_run(rules.lossgrad_compute_occlusion.output.curves, lg_models),
        signs=per_run(rules.lossgrad_compute_occlusion.output.signs, lg_models),
        metrics=per_run(rules.lossgrad_train_classifier.output.metrics, lg_models),
    output:
        roar="results/{scale}/lossgrad/mnist_roar.csv",
        signs="results/{scale}/lossgrad/mnist_sign_table.csv",
        models="results/{scale}/lossgrad/mnist_models.csv",
    script:
        "../scripts/lossgrad/aggregate_occlusion.py"


rule lossgrad_plot_roar:
    """Accuracy vs occluded pixels, a panel per head x replacement x order."""
    input:
        roar=rules.lossgrad_aggregate_occlusion.output.roar,
    output:
        figure=report(
            "results/{scale}/lossgrad/fig_mnist_roar.png",
            caption="../report/lossgrad/fig_mnist_roar.rst",
            category="lossgrad",
            subcategory="MNIST",
        ),
    params:
        spread=setting("lossgrad", "plot", "spread"),
        panel_width=setting("lossgrad", "plot", "panel_width"),
        panel_height=setting("lossgrad", "plot", "panel_height"),
    script:
        "../scripts/lossgrad/plot_roar.py"


rule lossgrad_plot_examples:
    """Test digits before and after occlusion by each method and order."""
    input:
        data=LG_MNIST,
        model=lg_example(rules.lossgrad_train_classifier.output.model),
        grads=lg_example(rules.lossgrad_compute_gradients.output.grads),
    output:
        figure=report(
            "results/{scale}/lossgrad/fig_mnist_examples.png",
            caption="../report/lossgrad/fig_mnist_examples.rst",
            category="lossgrad",
            subcategory="MNIST",
        ),
    params:
        k=setting("lossgrad", "plot", "example_k"),
        replacement=setting("lossgrad", "plot", "example_replacement"),
        n_examples=setting("lossgrad", "plot", "n_examples"),
        methods=setting("lossgrad", "mnist", "attribution_method"),
        orders=setting("lossgrad", "mnist", "ROAR"),
    script:
        "../scripts/lossgrad/plot_examples.py"


rule lossgrad_mnist:
    """Named target of the original's MNIST experiments at the configured scale."""
    input:
        lossgrad_mnist_targets(SCALE),
    localrule: True


# ----------------------------------------------------------------------------------------
# Singing-voice detection (SVD). Chain: generate (demo) / download + extract (paper)
# Jamendo -> log-mel spectrograms + z-norm statistics -> train SVDNet -> evaluate ->
# loss-gradient cache -> ROAR/KAR occlusion -> figure + claims.


rule lossgrad_generate_jamendo:
    """Demo stand-in for Jamendo: generated songs with planted sung segments (no network)."""
    output:
        corpus=directory("data/demo/jamendo/corpus"),
    params:
        corpus=setting("lossgrad", "svd", "corpus", scale="demo"),
    script:
        "../scripts/lossgrad/generate_jamendo.py"


rule lossgrad_download_jamendo:
    """The Jamendo archive (Zenodo record 2585988), checked against Zenodo's published md5 or a
    pinned sha256; a file placed by hand is accepted if it matches (local rule)."""
    output:
        archive="data/paper/jamendo/jamendo.zip",
        checksum="data/paper/jamendo/jamendo.zip.checksum",
    retries: 2
    localrule: True
    params:
        urls=setting("lossgrad", "svd", "archive_urls", scale="paper"),
        sha256=setting("lossgrad", "svd", "archive_sha256", scale="paper"),
        record_api=setting("lossgrad", "svd", "zenodo_record_api", scale="paper"),
        name=setting("lossgrad", "svd", "archive_name", scale="paper"),
    script:
        "../scripts/lossgrad/download_jamendo.py"


rule lossgrad_extract_jamendo:
    """Verify and safely extract the Jamendo archive into the corpus layout."""
    input:
        archive=rules.lossgrad_download_jamendo.output.archive,
        checksum=rules.lossgrad_download_jamendo.output.checksum,
    output:
        corpus=directory("data/paper/jamendo/corpus"),
    script:
        "../scripts/lossgrad/extract_jamendo.py"


rule lossgrad_compute_spectrograms:
    """Log-mel spectrograms + frame labels of every file (the cache), and train-set z-norm stats."""
    input:
        corpus="data/{scale}/jamendo/corpus",
    output:
        spects="data/{scale}/jamendo/spectrograms.npz",
        znorm="data/{scale}/jamendo/znorm.npz",
    threads: job_threads("lossgrad", "svd")
    resources:
        **lg_cpu_resources("svd"),
    script:
        "../scripts/lossgrad/compute_spectrograms.py"


rule lossgrad_train_svd:
    """Train SVDNet (SGD Nesterov, lr x0.85 per epoch, soft labels), keep the best validation epoch."""
    input:
        spects=rules.lossgrad_compute_spectrograms.output.spects,
        znorm=rules.lossgrad_compute_spectrograms.output.znorm,
    output:
        model="results/{scale}/lossgrad/svd/model.pt",
        metrics="results/{scale}/lossgrad/svd/model.json",
    threads: job_threads("lossgrad", "svd")
    resources:
        **job_resources("lossgrad", "svd"),
    params:
        checkpoint="results/{scale}/lossgrad/checkpoints/svd/model.pt",
        train=setting("lossgrad", "svd", keys=LG_SVD_TRAIN),
    script:
        "../scripts/lossgrad/train_svd.py"


rule lossgrad_evaluate_svd:
    """Median-filtered predictions, validation-tuned threshold, test AUROC and error: svd_eval.csv."""
    input:
        spects=rules.lossgrad_compute_spectrograms.output.spects,
        znorm=rules.lossgrad_compute_spectrograms.output.znorm,
        model=rules.lossgrad_train_svd.output.model,
    output:
        table="results/{scale}/lossgrad/svd_eval.csv",
        predictions="results/{scale}/lossgrad/svd/predictions.npz",
    threads: job_threads("lossgrad", "svd")
    resources:
        **job_resources("lossgrad", "svd"),
    params:
        median_filter=setting("lossgrad", "svd", "median_filter"),
        test_batch_size=setting("lossgrad", "svd", "test_batch_size"),
    script:
        "../scripts/lossgrad/evaluate_svd.py"


rule lossgrad_compute_svd_gradients:
    """Loss gradients of every test excerpt, batched: the declared gradient cache."""
    input:
        spects=rules.lossgrad_compute_spectrograms.output.spects,
        znorm=rules.lossgrad_compute_spectrograms.output.znorm,
        model=rules.lossgrad_train_svd.output.model,
    output:
        grads="results/{scale}/lossgrad/svd/gradients.npz",
    threads: job_threads("lossgrad", "svd")
    resources:
        **job_resources("lossgrad", "svd"),
    params:
        gradient_batch_size=setting("lossgrad", "svd", "gradient_batch_size"),
        frame_step=setting("lossgrad", "svd", "occlusion_frame_step"),
    script:
        "../scripts/lossgrad/compute_svd_gradients.py"


rule lossgrad_compute_svd_occlusion:
    """ROAR (order 1) and KAR (order 0) occlusion of spectrogram bins: svd_roar.csv."""
    input:
        spects=rules.lossgrad_compute_spectrograms.output.spects,
        znorm=rules.lossgrad_compute_spectrograms.output.znorm,
        model=rules.lossgrad_train_svd.output.model,
        grads=rules.lossgrad_compute_svd_gradients.output.grads,
        predictions=rules.lossgrad_evaluate_svd.output.predictions,
    output:
        table="results/{scale}/lossgrad/svd_roar.csv",
    threads: job_threads("lossgrad", "svd")
    resources:
        **job_resources("lossgrad", "svd"),
    params:
        sweep=lg_sweep("svd", LG_SVD_SWEEP),
    script:
        "../scripts/lossgrad/compute_svd_occlusion.py"


rule lossgrad_plot_svd_roar:
    """Test AUROC and error vs occluded bins, ROAR vs KAR, one line per ranking."""
    input:
        table=rules.lossgrad_compute_svd_occlusion.output.table,
    output:
        figure=report(
            "results/{scale}/lossgrad/fig_svd_roar.png",
            caption="../report/lossgrad/fig_svd_roar.rst",
            category="lossgrad",
            subcategory="Singing voice detection",
        ),
    params:
        panel_width=setting("lossgrad", "plot", "panel_width"),
        panel_height=setting("lossgrad", "plot", "panel_height"),
    script:
        "../scripts/lossgrad/plot_svd_roar.py"


rule lossgrad_svd:
    """Named target of the original's singing-voice experiments at the configured scale."""
    input:
        lossgrad_svd_targets(SCALE),
    localrule: True


rule lossgrad_write_claims:
    """Claims of both halves, measured against planted truth (demo) or the paper (paper)."""
    input:
        roar=rules.lossgrad_aggregate_occlusion.output.roar,
        models=rules.lossgrad_aggregate_occlusion.output.models,
        svd_eval=rules.lossgrad_evaluate_svd.output.table,
        svd_roar=rules.lossgrad_compute_svd_occlusion.output.table,
    output:
        claims=report(
            "results/{scale}/lossgrad/claims.csv", caption="../report/lossgrad/claims.rst", category="lossgrad"
        ),
    params:
        scale="{scale}",
    script:
        "../scripts/lossgrad/write_claims.py"
