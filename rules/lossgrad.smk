# Study lossgrad: loss-gradient attributions under ROAR/KAR occlusion (MNIST, then SVD below).
# Chain: generate/download MNIST -> train three heads x seeds -> loss-gradient cache ->
# occlusion sweep -> aggregate tables -> figures + claims.

include: "lossgrad_functions.smk"


wildcard_constraints:
    variant="softmax10|softmax2|sigmoid2",


localrules:
    lossgrad_download_mnist,
    lossgrad_download_jamendo,
    lossgrad_mnist,
    lossgrad_svd,


rule lossgrad_generate_mnist:
    """Demo stand-in for MNIST: scikit-learn's digits, upsampled to 28x28 (no network)."""
    output:
        data="data/demo/mnist/mnist.npz",
    params:
        seed=config["lossgrad"]["mnist"]["demo"]["split_seed"],
        test_fraction=config["lossgrad"]["mnist"]["demo"]["test_fraction"],
    script:
        "../scripts/lossgrad/generate_mnist.py"


rule lossgrad_download_mnist:
    """One MNIST IDX archive from torchvision's mirrors, md5-checked (a local rule)."""
    output:
        archive="data/paper/mnist/raw/{name}.gz",
    wildcard_constraints:
        name="(train|t10k)-(images-idx3|labels-idx1)-ubyte",
    retries: 2
    script:
        "../scripts/lossgrad/download_mnist.py"


rule lossgrad_prepare_mnist:
    """The four MNIST IDX files -> the study's mnist.npz (same layout as the demo's)."""
    input:
        archives=expand(
            "data/paper/mnist/raw/{name}.gz",
            name=["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"],
        ),
    output:
        data="data/paper/mnist/mnist.npz",
    script:
        "../scripts/lossgrad/prepare_mnist.py"


rule lossgrad_train_classifier:
    """Train Net for one head and seed (Adadelta + StepLR), resumable from its checkpoint."""
    input:
        data="data/{scale}/mnist/mnist.npz",
    output:
        model="results/{scale}/lossgrad/models/{variant}/seed{seed}.pt",
        metrics="results/{scale}/lossgrad/models/{variant}/seed{seed}.json",
    params:
        checkpoint="results/{scale}/lossgrad/checkpoints/{variant}/seed{seed}.pt",
        train=lambda wc: {
            key: lg_mnist(wc)[key] for key in ("epochs", "batch_size", "test_batch_size", "lr", "gamma", "arch")
        },
    threads: job_threads("lossgrad", "mnist")
    resources:
        **job_resources("lossgrad", "mnist"),
    script:
        "../scripts/lossgrad/train_classifier.py"


rule lossgrad_compute_gradients:
    """Loss gradients dL/dx of every test image, batched: the declared gradient cache."""
    input:
        data="data/{scale}/mnist/mnist.npz",
        model="results/{scale}/lossgrad/models/{variant}/seed{seed}.pt",
    output:
        grads="results/{scale}/lossgrad/gradients/{variant}/seed{seed}.npz",
    params:
        internal_batch_size=lambda wc: lg_mnist(wc)["gradient_batch_size"],
    threads: job_threads("lossgrad", "mnist")
    resources:
        **job_resources("lossgrad", "mnist"),
    script:
        "../scripts/lossgrad/compute_gradients.py"


rule lossgrad_compute_occlusion:
    """Occlusion sweep of one model: methods x replacements x orders x levels."""
    input:
        data="data/{scale}/mnist/mnist.npz",
        model="results/{scale}/lossgrad/models/{variant}/seed{seed}.pt",
        grads="results/{scale}/lossgrad/gradients/{variant}/seed{seed}.npz",
    output:
        curves="results/{scale}/lossgrad/occlusion/{variant}/seed{seed}.csv",
        signs="results/{scale}/lossgrad/occlusion/{variant}/seed{seed}_signs.csv",
    params:
        sweep=lambda wc: {
            "attribution_methods": lg_mnist(wc)["attribution_method"],
            "replacement_types": lg_mnist(wc)["replacement_type"],
            "roar": lg_mnist(wc)["ROAR"],
            "occlude_levels": lg_mnist(wc)["occlude"],
            "test_batch_size": lg_mnist(wc)["test_batch_size"],
        },
    threads: job_threads("lossgrad", "mnist")
    resources:
        **job_resources("lossgrad", "mnist"),
    script:
        "../scripts/lossgrad/compute_occlusion.py"


rule lossgrad_aggregate_occlusion:
    """All sweeps -> mnist_roar.csv, the sign table, and the clean accuracy of every model."""
    input:
        curves=lg_per_model("results/{scale}/lossgrad/occlusion/{variant}/seed{seed}.csv"),
        signs=lg_per_model("results/{scale}/lossgrad/occlusion/{variant}/seed{seed}_signs.csv"),
        metrics=lg_per_model("results/{scale}/lossgrad/models/{variant}/seed{seed}.json"),
    output:
        roar="results/{scale}/lossgrad/mnist_roar.csv",
        signs="results/{scale}/lossgrad/mnist_sign_table.csv",
        models="results/{scale}/lossgrad/mnist_models.csv",
    script:
        "../scripts/lossgrad/aggregate_occlusion.py"


rule lossgrad_plot_roar:
    """Accuracy vs occluded pixels, a panel per head x replacement x order."""
    input:
        roar="results/{scale}/lossgrad/mnist_roar.csv",
    output:
        figure=report(
            "results/{scale}/lossgrad/fig_mnist_roar.png",
            caption="../report/lossgrad/fig_mnist_roar.rst",
            category="lossgrad",
            subcategory="MNIST",
        ),
    params:
        spread=config["lossgrad"]["plot"]["spread"],
        panel_width=config["lossgrad"]["plot"]["panel_width"],
        panel_height=config["lossgrad"]["plot"]["panel_height"],
    script:
        "../scripts/lossgrad/plot_roar.py"


rule lossgrad_plot_examples:
    """Test digits before and after occlusion by each method and order."""
    input:
        data="data/{scale}/mnist/mnist.npz",
        model=lg_example_input("model"),
        grads=lg_example_input("grads"),
    output:
        figure=report(
            "results/{scale}/lossgrad/fig_mnist_examples.png",
            caption="../report/lossgrad/fig_mnist_examples.rst",
            category="lossgrad",
            subcategory="MNIST",
        ),
    params:
        k=config["lossgrad"]["plot"]["example_k"],
        replacement=config["lossgrad"]["plot"]["example_replacement"],
        n_examples=config["lossgrad"]["plot"]["n_examples"],
        methods=lambda wc: lg_mnist(wc)["attribution_method"],
        orders=lambda wc: lg_mnist(wc)["ROAR"],
    script:
        "../scripts/lossgrad/plot_examples.py"


rule lossgrad_write_claims:
    """The study's claims, measured against planted truth (demo) or the paper (paper)."""
    input:
        roar="results/{scale}/lossgrad/mnist_roar.csv",
        models="results/{scale}/lossgrad/mnist_models.csv",
        svd_eval="results/{scale}/lossgrad/svd_eval.csv",
        svd_roar="results/{scale}/lossgrad/svd_roar.csv",
    output:
        claims=report("results/{scale}/lossgrad/claims.csv", caption="../report/lossgrad/claims.rst", category="lossgrad"),
    params:
        scale="{scale}",
    script:
        "../scripts/lossgrad/write_claims.py"


rule lossgrad_mnist:
    """Named target of the original's MNIST experiments at the configured scale."""
    input:
        lossgrad_mnist_targets(SCALE),




# ----------------------------------------------------------------------------------------
# Singing-voice detection (SVD). Chain: generate (demo) / download + extract (paper)
# Jamendo -> log-mel spectrograms + z-norm statistics -> train SVDNet -> evaluate ->
# loss-gradient cache -> ROAR/KAR occlusion -> figure + claims.


rule lossgrad_generate_jamendo:
    """Demo stand-in for Jamendo: generated songs with planted sung segments (no network)."""
    output:
        corpus=directory("data/demo/jamendo/corpus"),
    params:
        corpus=config["lossgrad"]["svd"]["demo"]["corpus"],
    script:
        "../scripts/lossgrad/generate_jamendo.py"


rule lossgrad_download_jamendo:
    """The Jamendo archive (Zenodo record 2585988), checked against Zenodo's published md5 or a
    pinned sha256; a file placed by hand is accepted if it matches (local rule)."""
    output:
        archive="data/paper/jamendo/jamendo.zip",
        checksum="data/paper/jamendo/jamendo.zip.checksum",
    params:
        urls=config["lossgrad"]["svd"]["paper"]["archive_urls"],
        sha256=config["lossgrad"]["svd"]["paper"]["archive_sha256"],
        record_api=config["lossgrad"]["svd"]["paper"]["zenodo_record_api"],
        name=config["lossgrad"]["svd"]["paper"]["archive_name"],
    retries: 2
    script:
        "../scripts/lossgrad/download_jamendo.py"


rule lossgrad_extract_jamendo:
    """Verify and safely extract the Jamendo archive into the corpus layout."""
    input:
        archive="data/paper/jamendo/jamendo.zip",
        checksum="data/paper/jamendo/jamendo.zip.checksum",
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
    threads: resource("lossgrad", "svd", "threads")
    resources:
        mem_mb=resource("lossgrad", "svd", "mem_mb"),
        runtime=resource("lossgrad", "svd", "runtime"),
    script:
        "../scripts/lossgrad/compute_spectrograms.py"


rule lossgrad_train_svd:
    """Train SVDNet (SGD Nesterov, lr x0.85 per epoch, soft labels), keep the best validation epoch."""
    input:
        spects="data/{scale}/jamendo/spectrograms.npz",
        znorm="data/{scale}/jamendo/znorm.npz",
    output:
        model="results/{scale}/lossgrad/svd/model.pt",
        metrics="results/{scale}/lossgrad/svd/model.json",
    params:
        checkpoint="results/{scale}/lossgrad/checkpoints/svd/model.pt",
        train=lambda wc: {
            key: lg_svd(wc)[key]
            for key in ("seed", "epochs", "batches_per_epoch", "batch_size", "lr", "lr_decay", "momentum", "arch", "test_batch_size")
        },
    threads: job_threads("lossgrad", "svd")
    resources:
        **job_resources("lossgrad", "svd"),
    script:
        "../scripts/lossgrad/train_svd.py"


rule lossgrad_evaluate_svd:
    """Median-filtered predictions, validation-tuned threshold, test AUROC and error: svd_eval.csv."""
    input:
        spects="data/{scale}/jamendo/spectrograms.npz",
        znorm="data/{scale}/jamendo/znorm.npz",
        model="results/{scale}/lossgrad/svd/model.pt",
    output:
        table="results/{scale}/lossgrad/svd_eval.csv",
        predictions="results/{scale}/lossgrad/svd/predictions.npz",
    params:
        median_filter=lambda wc: lg_svd(wc)["median_filter"],
        test_batch_size=lambda wc: lg_svd(wc)["test_batch_size"],
    threads: job_threads("lossgrad", "svd")
    resources:
        **job_resources("lossgrad", "svd"),
    script:
        "../scripts/lossgrad/evaluate_svd.py"


rule lossgrad_compute_svd_gradients:
    """Loss gradients of every test excerpt, batched: the declared gradient cache."""
    input:
        spects="data/{scale}/jamendo/spectrograms.npz",
        znorm="data/{scale}/jamendo/znorm.npz",
        model="results/{scale}/lossgrad/svd/model.pt",
    output:
        grads="results/{scale}/lossgrad/svd/gradients.npz",
    params:
        gradient_batch_size=lambda wc: lg_svd(wc)["gradient_batch_size"],
        frame_step=lambda wc: lg_svd(wc)["occlusion_frame_step"],
    threads: job_threads("lossgrad", "svd")
    resources:
        **job_resources("lossgrad", "svd"),
    script:
        "../scripts/lossgrad/compute_svd_gradients.py"


rule lossgrad_compute_svd_occlusion:
    """ROAR (order 1) and KAR (order 0) occlusion of spectrogram bins: svd_roar.csv."""
    input:
        spects="data/{scale}/jamendo/spectrograms.npz",
        znorm="data/{scale}/jamendo/znorm.npz",
        model="results/{scale}/lossgrad/svd/model.pt",
        grads="results/{scale}/lossgrad/svd/gradients.npz",
        predictions="results/{scale}/lossgrad/svd/predictions.npz",
    output:
        table="results/{scale}/lossgrad/svd_roar.csv",
    params:
        sweep=lambda wc: {
            "seed": lg_svd(wc)["seed"],
            "attribution_methods": lg_svd(wc)["attribution_method"],
            "replacement_types": lg_svd(wc)["replacement_type"],
            "roar": lg_svd(wc)["ROAR"],
            "occlude_levels": lg_svd(wc)["occlude"],
            "median_filter": lg_svd(wc)["median_filter"],
            "test_batch_size": lg_svd(wc)["test_batch_size"],
            "frame_step": lg_svd(wc)["occlusion_frame_step"],
        },
    threads: job_threads("lossgrad", "svd")
    resources:
        **job_resources("lossgrad", "svd"),
    script:
        "../scripts/lossgrad/compute_svd_occlusion.py"


rule lossgrad_plot_svd_roar:
    """Test AUROC and error vs occluded bins, ROAR vs KAR, one line per ranking."""
    input:
        table="results/{scale}/lossgrad/svd_roar.csv",
    output:
        figure=report(
            "results/{scale}/lossgrad/fig_svd_roar.png",
            caption="../report/lossgrad/fig_svd_roar.rst",
            category="lossgrad",
            subcategory="Singing voice detection",
        ),
    params:
        panel_width=config["lossgrad"]["plot"]["panel_width"],
        panel_height=config["lossgrad"]["plot"]["panel_height"],
    script:
        "../scripts/lossgrad/plot_svd_roar.py"


rule lossgrad_svd:
    """Named target of the original's singing-voice experiments at the configured scale."""
    input:
        lossgrad_svd_targets(SCALE),
