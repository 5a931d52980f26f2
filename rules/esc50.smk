# Study esc50: post-hoc interpretation of sound classifiers with SpeechBrain (the ESC50
# classification and interpret recipes): classifiers (conv2d, CNN14; FocalNet, ViT when
# enabled) -> PIQ, NMF + L2I, AMT -> fidelity-to-input / faithfulness on the test fold,
# per-clip figures, the overlap test, interpretation audio, claims.
# Demo data: synthetic ESC-50-format clips with planted time-frequency boxes.


include: "esc50_functions.smk"
include: "esc50_user_data.smk"


# The archs each method takes are narrowed by the config schema's enums.
wildcard_constraints:
    arch="conv2d|cnn14|focalnet|vit",
    method="piq|l2i|amt",


localrules:
    esc50_download_data,


rule esc50_generate_data:
    """The synthetic ESC-50-format demo folder: 5 s clips of sound classes in known boxes."""
    output:
        meta="data/demo/esc50/meta/esc50.csv",
        planted="data/demo/esc50/meta/planted.csv",
        audio=directory("data/demo/esc50/audio"),
    params:
        generator=setting("esc50", "data", keys=ESC50_GENERATOR, scale="demo"),
    script:
        "../scripts/esc50/generate_data.py"


rule esc50_download_data:
    """ESC-50 master.zip (checksummed), extracted safely into the ESC-50 layout."""
    output:
        archive="data/paper/esc50/master.zip",
        meta="data/paper/esc50/meta/esc50.csv",
        audio=directory("data/paper/esc50/audio"),
    params:
        url=setting("esc50", "data", "url", scale="paper"),
        checksum=setting("esc50", "data", "checksum", scale="paper"),
        shape=setting("esc50", "data", "shape", scale="paper"),
    script:
        "../scripts/esc50/download_data.py"


rule esc50_train_classifier:
    """One classifier of the classification recipe (AAM softmax, Adam; best validation epoch)."""
    input:
        unpack(esc50_classifier_inputs),
    output:
        model="results/{scale}/esc50/classifier/{arch}.pt",
        metrics="results/{scale}/esc50/classifier/{arch}.json",
    threads: job_threads("esc50", "classify")
    resources:
        **job_resources("esc50", "classify"),
    params:
        checkpoint="results/{scale}/esc50/checkpoints/classifier/{arch}.pt",
        folds=esc50_folds,
        seed=setting("esc50", "classify", "seed"),
        hparams=esc50_classifier,
        test_only=setting("esc50", "classify", "test_only"),
        mask_augment=esc50_mask_augment,
        max_train_clips=setting("esc50", "classify", "max_train_clips"),
        pretrained=esc50_pretrained,
    script:
        "../scripts/esc50/train_classifier.py"


rule esc50_train_piq:
    """The PIQ decoder of one classifier (VQ codebook with class partitioning, mask BCE)."""
    input:
        meta=ESC50_META,
        audio=ESC50_AUDIO,
        audio_files=files_under(ESC50_AUDIO),
        classifier=rules.esc50_train_classifier.output.model,
    output:
        model="results/{scale}/esc50/piq/{arch}.pt",
        metrics="results/{scale}/esc50/piq/{arch}.json",
    threads: job_threads("esc50", "piq")
    resources:
        **job_resources("esc50", "piq"),
    params:
        checkpoint="results/{scale}/esc50/checkpoints/piq/{arch}.pt",
        folds=esc50_folds,
        hparams=esc50_hparams("piq", ESC50_PIQ),
        max_train_clips=setting("esc50", "classify", "max_train_clips"),
    script:
        "../scripts/esc50/train_piq.py"


rule esc50_train_nmf:
    """The NMF dictionary of L2I on the log1p magnitudes at one classifier's sample rate."""
    input:
        meta=ESC50_META,
        audio=ESC50_AUDIO,
        audio_files=files_under(ESC50_AUDIO),
    output:
        model="results/{scale}/esc50/nmf/{arch}.pt",
        metrics="results/{scale}/esc50/nmf/{arch}.json",
    threads: job_threads("esc50", "nmf")
    resources:
        **job_resources("esc50", "nmf"),
    params:
        checkpoint="results/{scale}/esc50/checkpoints/nmf/{arch}.pt",
        folds=esc50_folds,
        sample_rate=lambda wildcards: esc50_classifier(wildcards)["sample_rate"],
        hparams=setting("esc50", "nmf", keys=ESC50_NMF),
        max_train_clips=setting("esc50", "classify", "max_train_clips"),
    script:
        "../scripts/esc50/train_nmf.py"


rule esc50_train_l2i:
    """L2I's Psi and Theta on one frozen classifier and its NMF dictionary."""
    input:
        meta=ESC50_META,
        audio=ESC50_AUDIO,
        audio_files=files_under(ESC50_AUDIO),
        classifier=rules.esc50_train_classifier.output.model,
        nmf=rules.esc50_train_nmf.output.model,
    output:
        model="results/{scale}/esc50/l2i/{arch}.pt",
        metrics="results/{scale}/esc50/l2i/{arch}.json",
    threads: job_threads("esc50", "l2i")
    resources:
        **job_resources("esc50", "l2i"),
    params:
        checkpoint="results/{scale}/esc50/checkpoints/l2i/{arch}.pt",
        folds=esc50_folds,
        hparams=esc50_hparams("l2i", ESC50_L2I),
        max_train_clips=setting("esc50", "classify", "max_train_clips"),
    script:
        "../scripts/esc50/train_l2i.py"


# weights: published: the recipes' released models, fetched and imported (docs/published-weights.md)
include: "esc50_published.smk"


rule esc50_compute_interpretations:
    """Masks, interpretations and per-clip fidelity/faithfulness of one interpreter on the test fold."""
    input:
        unpack(esc50_interpreter_inputs),
    output:
        clips="results/{scale}/esc50/interpretations/{method}_{arch}.csv",
        arrays="results/{scale}/esc50/interpretations/{method}_{arch}.npz",
    threads: job_threads("esc50", "{method}")
    resources:
        **job_resources("esc50", "{method}"),
    params:
        test_folds=setting("esc50", "classify", "test_folds"),
        quantile=setting("esc50", "amt", "quantile"),
        control_seed=setting("esc50", "classify", "seed"),
    script:
        "../scripts/esc50/compute_interpretations.py"


rule esc50_compute_overlap:
    """The overlap test: PIQ (conv2d) on 0.8 source + 0.2 clip of another class."""
    input:
        meta=ESC50_META,
        audio=ESC50_AUDIO,
        audio_files=files_under(ESC50_AUDIO),
        classifier=esc50_model("classifier", "conv2d"),
        model=esc50_model("piq", "conv2d"),
    output:
        table="results/{scale}/esc50/overlap.csv",
        arrays="results/{scale}/esc50/overlap.npz",
    threads: job_threads("esc50", "piq")
    resources:
        **job_resources("esc50", "piq"),
    params:
        test_folds=setting("esc50", "classify", "test_folds"),
        mix=setting("esc50", "piq", "overlap_mix"),
        control_seed=setting("esc50", "classify", "seed"),
    script:
        "../scripts/esc50/compute_overlap.py"


rule esc50_summarise_accuracy:
    """Classification accuracy of every classifier (validation and test folds)."""
    input:
        records=per_run(esc50_model("classifier", suffix="json"), esc50_classifier_runs),
    output:
        table="results/{scale}/esc50/accuracy_table.csv",
    params:
        scale="{scale}",
    script:
        "../scripts/esc50/summarise_accuracy.py"


rule esc50_summarise_interpretations:
    """The interpretation table: fidelity-to-input and faithfulness (mask-in, mask-out) per interpreter."""
    input:
        clips=per_run(rules.esc50_compute_interpretations.output.clips, esc50_interpretation_runs),
    output:
        table="results/{scale}/esc50/interpretation_table.csv",
    params:
        scale="{scale}",
    script:
        "../scripts/esc50/summarise_interpretations.py"


rule esc50_plot_interpretations:
    """Per test clip: log-spectrogram, thresholded input, interpretation, estimated mask."""
    input:
        arrays=rules.esc50_compute_interpretations.output.arrays,
    output:
        figure=report(
            "results/{scale}/esc50/fig_clips_{method}_{arch}.png",
            caption="../report/esc50/fig_clips.rst",
            category="esc50",
        ),
    params:
        mask_th=setting("esc50", "piq", "mask_th"),
        plot=setting("esc50", "plot", keys=ESC50_PLOT),
    script:
        "../scripts/esc50/plot_interpretations.py"


rule esc50_plot_overlap:
    """The overlap test figure: source, noise, mixture, mask, interpretation."""
    input:
        arrays=rules.esc50_compute_overlap.output.arrays,
    output:
        figure=report(
            "results/{scale}/esc50/fig_overlap.png",
            caption="../report/esc50/fig_overlap.rst",
            category="esc50",
        ),
    params:
        plot=setting("esc50", "plot", keys=ESC50_PLOT),
    script:
        "../scripts/esc50/plot_overlap.py"


rule esc50_write_audio:
    """Interpretation audio: inverse STFT of each interpretation with the original phase, one WAV per clip."""
    input:
        meta=ESC50_META,
        audio=ESC50_AUDIO,
        audio_files=files_under(ESC50_AUDIO),
        arrays=rules.esc50_compute_interpretations.output.arrays,
        classifier=ESC50_CLASSIFIER,
    output:
        audio=directory("results/{scale}/esc50/audio/{method}_{arch}"),
    script:
        "../scripts/esc50/write_audio.py"


rule esc50_write_claims:
    """claims.csv: each claim decided by its test beside its negative control (demo: planted regions, chance; paper: the published numbers)."""
    input:
        clips=per_run(rules.esc50_compute_interpretations.output.clips, esc50_claimed_runs),
        accuracy=rules.esc50_summarise_accuracy.output.table,
        overlap=per_run(rules.esc50_compute_overlap.output.table, esc50_overlap_runs),
    output:
        claims=report("results/{scale}/esc50/claims.csv", caption="../report/esc50/claims.rst", category="esc50"),
    params:
        scale="{scale}",
        user_data=lambda wildcards: setting("esc50", "user_data", "path")(wildcards) is not None,
    script:
        "../scripts/esc50/write_claims.py"


rule esc50_classify:
    """Every classifier and the accuracy table."""
    input:
        esc50_classify_targets(SCALE),


rule esc50_piq:
    """PIQ interpretations, figures, audio and the overlap test."""
    input:
        esc50_method_targets(SCALE, "piq") + esc50_overlap_targets(SCALE),


rule esc50_l2i:
    """NMF + L2I interpretations, figures and audio."""
    input:
        esc50_method_targets(SCALE, "l2i"),


rule esc50_amt:
    """AMT interpretations (FocalNet, ViT) where enabled."""
    input:
        esc50_method_targets(SCALE, "amt"),


rule esc50_table:
    """The interpretation table and the claims."""
    input:
        [f"results/{SCALE}/esc50/interpretation_table.csv", f"results/{SCALE}/esc50/claims.csv"],
