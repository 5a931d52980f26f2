# lossgrad's singing-voice-detection (SVD) half, included by rules/lossgrad.smk. Chain:
# generate (demo) / download + extract (paper)
# Jamendo -> log-mel spectrograms + z-norm statistics -> train SVDNet -> evaluate ->
# loss-gradient cache -> ROAR/KAR occlusion, each per model (svd.seeds) -> aggregated tables
# -> figure + claims.


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
        corpus_files=files_under("data/{scale}/jamendo/corpus"),
    output:
        spects="data/{scale}/jamendo/spectrograms.npz",
        znorm="data/{scale}/jamendo/znorm.npz",
    threads: job_threads("lossgrad", "svd")
    resources:
        **lg_cpu_resources("svd"),
    script:
        "../scripts/lossgrad/compute_spectrograms.py"


rule lossgrad_train_svd:
    """Train SVDNet of one seed (SGD Nesterov, lr x0.85 per epoch, soft labels), keep the best
    validation epoch."""
    input:
        spects=rules.lossgrad_compute_spectrograms.output.spects,
        znorm=rules.lossgrad_compute_spectrograms.output.znorm,
    output:
        model=f"{LG_SVD}/model.pt",
        metrics=f"{LG_SVD}/model.json",
    threads: job_threads("lossgrad", "svd")
    resources:
        **job_resources("lossgrad", "svd"),
    params:
        checkpoint="results/{scale}/lossgrad/checkpoints/svd/seed{seed}/model.pt",
        train=setting("lossgrad", "svd", keys=LG_SVD_TRAIN),
        torch_threads=lg_torch_threads("svd"),
    script:
        "../scripts/lossgrad/train_svd.py"


rule lossgrad_evaluate_svd:
    """One model's median-filtered predictions, validation-tuned threshold, test AUROC and error."""
    input:
        spects=rules.lossgrad_compute_spectrograms.output.spects,
        znorm=rules.lossgrad_compute_spectrograms.output.znorm,
        model=rules.lossgrad_train_svd.output.model,
    output:
        table=f"{LG_SVD}/eval.csv",
        predictions=f"{LG_SVD}/predictions.npz",
    threads: job_threads("lossgrad", "svd")
    resources:
        **job_resources("lossgrad", "svd"),
    params:
        median_filter=setting("lossgrad", "svd", "median_filter"),
        test_batch_size=setting("lossgrad", "svd", "test_batch_size"),
        frame_step=setting("lossgrad", "svd", "occlusion_frame_step"),
        torch_threads=lg_torch_threads("svd"),
    script:
        "../scripts/lossgrad/evaluate_svd.py"


rule lossgrad_compute_svd_gradients:
    """Loss gradients of every test excerpt, batched, under the model svd.lossgradient names
    (the original's --lossgradient; by default seed {seed}'s own): the declared gradient cache,
    and those of the randomised model (the occlusion claims' control)."""
    input:
        spects=rules.lossgrad_compute_spectrograms.output.spects,
        znorm=rules.lossgrad_compute_spectrograms.output.znorm,
        model=lg_svd_gradient_model,
    output:
        grads=f"{LG_SVD}/gradients.npz",
    threads: job_threads("lossgrad", "svd")
    resources:
        **job_resources("lossgrad", "svd"),
    params:
        gradient_batch_size=setting("lossgrad", "svd", "gradient_batch_size"),
        frame_step=setting("lossgrad", "svd", "occlusion_frame_step"),
        torch_threads=lg_torch_threads("svd"),
    script:
        "../scripts/lossgrad/compute_svd_gradients.py"


rule lossgrad_compute_svd_occlusion:
    """ROAR (order 1) and KAR (order 0) occlusion of one model's spectrogram bins."""
    input:
        spects=rules.lossgrad_compute_spectrograms.output.spects,
        znorm=rules.lossgrad_compute_spectrograms.output.znorm,
        model=rules.lossgrad_train_svd.output.model,
        grads=rules.lossgrad_compute_svd_gradients.output.grads,
        predictions=rules.lossgrad_evaluate_svd.output.predictions,
    output:
        table=f"{LG_SVD}/roar.csv",
        per_excerpt=f"{LG_SVD}/occlusion_items.npz",
    threads: job_threads("lossgrad", "svd")
    resources:
        **job_resources("lossgrad", "svd"),
    params:
        lossgradient=lg_svd_gradient_seed,
        sweep=lg_sweep("svd", LG_SVD_SWEEP),
        torch_threads=lg_torch_threads("svd"),
    script:
        "../scripts/lossgrad/compute_svd_occlusion.py"


rule lossgrad_aggregate_svd:
    """Every model's evaluation and occlusion tables in one each, with a seed column:
    svd_eval.csv and svd_roar.csv (the original prints each model's, run_all_ROAR_predict.py)."""
    input:
        tables=per_run(rules.lossgrad_evaluate_svd.output.table, lg_svd_runs),
        roar=per_run(rules.lossgrad_compute_svd_occlusion.output.table, lg_svd_runs),
    output:
        table="results/{scale}/lossgrad/svd_eval.csv",
        roar="results/{scale}/lossgrad/svd_roar.csv",
    params:
        seeds=setting("lossgrad", "svd", "seeds"),
    script:
        "../scripts/lossgrad/aggregate_svd.py"


rule lossgrad_plot_svd_roar:
    """Test AUROC and error vs occluded bins, ROAR vs KAR, one line per ranking (mean and
    min-max band over the models)."""
    input:
        table=rules.lossgrad_aggregate_svd.output.roar,
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
        note=lg_scale_note("svd"),
    script:
        "../scripts/lossgrad/plot_svd_roar.py"


rule lossgrad_svd:
    """Named target of the original's singing-voice experiments at the configured scale."""
    input:
        lossgrad_svd_targets(SCALE),
    localrule: True
