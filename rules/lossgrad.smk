# Study lossgrad: loss-gradient attributions under ROAR/KAR occlusion (MNIST here, SVD in
# lossgrad_svd.smk).
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
    """One MNIST IDX archive from torchvision's mirrors (or the configured ones), md5-checked
    (a local rule)."""
    output:
        archive="data/paper/mnist/raw/{mnist_file}.gz",
    retries: 2
    localrule: True
    params:
        mirrors=setting("lossgrad", "mnist", "mirrors", scale="paper"),
        md5=setting("lossgrad", "mnist", "md5", scale="paper"),
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


rule lossgrad_import_user_data:
    """Your own images and labels (lossgrad.user_data.path: .npz or MNIST IDX folder), checked before any training, -> the study's mnist.npz layout."""
    input:
        source=lg_user_source,
    output:
        data="data/{scale}/user/lossgrad/mnist.npz",
    params:
        user_data=setting("lossgrad", "user_data"),
        split=setting("lossgrad", "mnist", keys=["test_fraction", "split_seed"]),
    script:
        "../scripts/lossgrad/import_user_data.py"


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
        per_image="results/{scale}/lossgrad/occlusion/{variant}/seed{seed}_items.npz",
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
        note=lg_scale_note("mnist"),
        data="MNIST" if LG_USER_DATA is None else "Your images",
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
        example=lg_example_run,
    script:
        "../scripts/lossgrad/plot_examples.py"


rule lossgrad_mnist:
    """Named target of the original's MNIST experiments at the configured scale."""
    input:
        lossgrad_mnist_targets(SCALE),
    localrule: True


include: "lossgrad_svd.smk"


rule lossgrad_write_claims:
    """Claims of both halves, decided per test item against a negative control, and the invariants
    (the singing-voice claims on the first of svd.seeds)."""
    input:
        roar=rules.lossgrad_aggregate_occlusion.output.roar,
        models=rules.lossgrad_aggregate_occlusion.output.models,
        per_image=per_run(rules.lossgrad_compute_occlusion.output.per_image, lg_models),
        svd_eval=lg_svd_claims_inputs(rules.lossgrad_evaluate_svd.output.table),
        svd_predictions=lg_svd_claims_inputs(rules.lossgrad_evaluate_svd.output.predictions),
        svd_roar=lg_svd_claims_inputs(rules.lossgrad_compute_svd_occlusion.output.table),
        svd_per_excerpt=lg_svd_claims_inputs(rules.lossgrad_compute_svd_occlusion.output.per_excerpt),
    output:
        claims=report(
            "results/{scale}/lossgrad/claims.csv", caption="../report/lossgrad/claims.rst", category="lossgrad"
        ),
    params:
        scale="{scale}",
        runs=lg_models,
        frame_step=setting("lossgrad", "svd", "occlusion_frame_step"),
        user_data=LG_USER_DATA is not None,
    script:
        "../scripts/lossgrad/write_claims.py"
