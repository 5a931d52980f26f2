# Study lossgrad: loss-gradient attributions under ROAR/KAR occlusion (MNIST part).
# Chain: generate/download MNIST -> train three heads x seeds -> loss-gradient cache ->
# occlusion sweep -> aggregate tables -> figures + claims.

localrules:
    lossgrad_download_mnist,
    lossgrad_mnist,


rule lossgrad_generate_mnist:
    """Demo stand-in for MNIST: scikit-learn's digits, upsampled to 28x28 (no network)."""
    output:
        data="data/demo/mnist/mnist.npz",
    log:
        "logs/demo/lossgrad/generate_mnist.log",
    benchmark:
        "benchmarks/demo/lossgrad/generate_mnist.tsv"
    params:
        seed=config["lossgrad"]["mnist"]["demo"]["split_seed"],
        test_fraction=config["lossgrad"]["mnist"]["demo"]["test_fraction"],
        log_level=config["log_level"],
    conda:
        "../envs/lossgrad.yaml"
    container:
        container_image("lossgrad")
    script:
        "../scripts/lossgrad/generate_mnist.py"


rule lossgrad_download_mnist:
    """One MNIST IDX archive from torchvision's mirrors, md5-checked (a local rule)."""
    output:
        archive="data/paper/mnist/raw/{name}.gz",
    log:
        "logs/paper/lossgrad/download_mnist/{name}.log",
    benchmark:
        "benchmarks/paper/lossgrad/download_mnist/{name}.tsv"
    wildcard_constraints:
        name="(train|t10k)-(images-idx3|labels-idx1)-ubyte",
    params:
        log_level=config["log_level"],
    retries: 2
    conda:
        "../envs/lossgrad.yaml"
    container:
        container_image("lossgrad")
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
    log:
        "logs/paper/lossgrad/prepare_mnist.log",
    benchmark:
        "benchmarks/paper/lossgrad/prepare_mnist.tsv"
    params:
        log_level=config["log_level"],
    conda:
        "../envs/lossgrad.yaml"
    container:
        container_image("lossgrad")
    script:
        "../scripts/lossgrad/prepare_mnist.py"


rule lossgrad_train_classifier:
    """Train Net for one head and seed (Adadelta + StepLR), resumable from its checkpoint."""
    input:
        data="data/{scale}/mnist/mnist.npz",
    output:
        model="results/{scale}/lossgrad/models/{variant}/seed{seed}.pt",
        metrics="results/{scale}/lossgrad/models/{variant}/seed{seed}.json",
    log:
        "logs/{scale}/lossgrad/train_classifier/{variant}/seed{seed}.log",
    benchmark:
        "benchmarks/{scale}/lossgrad/train_classifier/{variant}/seed{seed}.tsv"
    params:
        checkpoint="results/{scale}/lossgrad/checkpoints/{variant}/seed{seed}.pt",
        train=lambda wc: {
            key: lg_mnist(wc)[key] for key in ("epochs", "batch_size", "test_batch_size", "lr", "gamma", "arch")
        },
        log_level=config["log_level"],
    threads: resource("lossgrad", "mnist", "threads")
    resources:
        mem_mb=resource("lossgrad", "mnist", "mem_mb"),
        runtime=resource("lossgrad", "mnist", "runtime"),
        gpu=resource("lossgrad", "mnist", "gpu"),
    conda:
        "../envs/lossgrad.yaml"
    container:
        container_image("lossgrad")
    script:
        "../scripts/lossgrad/train_classifier.py"


rule lossgrad_compute_gradients:
    """Loss gradients dL/dx of every test image, batched: the declared gradient cache."""
    input:
        data="data/{scale}/mnist/mnist.npz",
        model="results/{scale}/lossgrad/models/{variant}/seed{seed}.pt",
    output:
        grads="results/{scale}/lossgrad/gradients/{variant}/seed{seed}.npz",
    log:
        "logs/{scale}/lossgrad/compute_gradients/{variant}/seed{seed}.log",
    benchmark:
        "benchmarks/{scale}/lossgrad/compute_gradients/{variant}/seed{seed}.tsv"
    params:
        internal_batch_size=lambda wc: lg_mnist(wc)["gradient_batch_size"],
        log_level=config["log_level"],
    threads: resource("lossgrad", "mnist", "threads")
    resources:
        mem_mb=resource("lossgrad", "mnist", "mem_mb"),
        runtime=resource("lossgrad", "mnist", "runtime"),
        gpu=resource("lossgrad", "mnist", "gpu"),
    conda:
        "../envs/lossgrad.yaml"
    container:
        container_image("lossgrad")
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
    log:
        "logs/{scale}/lossgrad/compute_occlusion/{variant}/seed{seed}.log",
    benchmark:
        "benchmarks/{scale}/lossgrad/compute_occlusion/{variant}/seed{seed}.tsv"
    params:
        sweep=lambda wc: {
            "attribution_methods": lg_mnist(wc)["attribution_method"],
            "replacement_types": lg_mnist(wc)["replacement_type"],
            "roar": lg_mnist(wc)["ROAR"],
            "occlude_levels": lg_mnist(wc)["occlude"],
            "test_batch_size": lg_mnist(wc)["test_batch_size"],
        },
        log_level=config["log_level"],
    threads: resource("lossgrad", "mnist", "threads")
    resources:
        mem_mb=resource("lossgrad", "mnist", "mem_mb"),
        runtime=resource("lossgrad", "mnist", "runtime"),
        gpu=resource("lossgrad", "mnist", "gpu"),
    conda:
        "../envs/lossgrad.yaml"
    container:
        container_image("lossgrad")
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
    log:
        "logs/{scale}/lossgrad/aggregate_occlusion.log",
    benchmark:
        "benchmarks/{scale}/lossgrad/aggregate_occlusion.tsv"
    params:
        log_level=config["log_level"],
    conda:
        "../envs/lossgrad.yaml"
    container:
        container_image("lossgrad")
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
    log:
        "logs/{scale}/lossgrad/plot_roar.log",
    benchmark:
        "benchmarks/{scale}/lossgrad/plot_roar.tsv"
    params:
        spread=config["lossgrad"]["plot"]["spread"],
        panel_width=config["lossgrad"]["plot"]["panel_width"],
        panel_height=config["lossgrad"]["plot"]["panel_height"],
        log_level=config["log_level"],
    conda:
        "../envs/lossgrad.yaml"
    container:
        container_image("lossgrad")
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
    log:
        "logs/{scale}/lossgrad/plot_examples.log",
    benchmark:
        "benchmarks/{scale}/lossgrad/plot_examples.tsv"
    params:
        k=config["lossgrad"]["plot"]["example_k"],
        replacement=config["lossgrad"]["plot"]["example_replacement"],
        n_examples=config["lossgrad"]["plot"]["n_examples"],
        methods=lambda wc: lg_mnist(wc)["attribution_method"],
        orders=lambda wc: lg_mnist(wc)["ROAR"],
        log_level=config["log_level"],
    conda:
        "../envs/lossgrad.yaml"
    container:
        container_image("lossgrad")
    script:
        "../scripts/lossgrad/plot_examples.py"


rule lossgrad_write_claims:
    """The study's claims, measured against planted truth (demo) or the paper (paper)."""
    input:
        roar="results/{scale}/lossgrad/mnist_roar.csv",
        models="results/{scale}/lossgrad/mnist_models.csv",
    output:
        claims=report("results/{scale}/lossgrad/claims.csv", caption="../report/lossgrad/claims.rst", category="lossgrad"),
    log:
        "logs/{scale}/lossgrad/write_claims.log",
    benchmark:
        "benchmarks/{scale}/lossgrad/write_claims.tsv"
    params:
        scale="{scale}",
        log_level=config["log_level"],
    conda:
        "../envs/lossgrad.yaml"
    container:
        container_image("lossgrad")
    script:
        "../scripts/lossgrad/write_claims.py"


rule lossgrad_mnist:
    """Named target of the original's MNIST experiments at the configured scale."""
    input:
        lossgrad_targets(SCALE),


rule lossgrad:
    """Every output of the lossgrad study at the configured scale."""
    input:
        lossgrad_targets(SCALE),
