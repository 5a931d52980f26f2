# Study esc50: post-hoc interpretation of sound classifiers with SpeechBrain (the ESC50
# classification and interpret recipes): classifiers (conv2d, CNN14; FocalNet, ViT when
# enabled) -> PIQ, NMF + L2I, AMT -> fidelity-to-input / faithfulness on the test fold,
# per-clip figures, the overlap test, interpretation audio, claims.
# Demo data: synthetic ESC-50-format clips with planted time-frequency boxes.

include: "esc50_functions.smk"



localrules:
    esc50_download_data,


rule esc50_generate_data:
    """The synthetic ESC-50-format demo folder: 5 s clips of sound classes in known boxes."""
    output:
        meta="data/{scale,demo}/esc50/meta/esc50.csv",
        planted="data/{scale,demo}/esc50/meta/planted.csv",
        audio=directory("data/{scale,demo}/esc50/audio"),
    params:
        generator=lambda wc: {
            k: esc50_cfg("data", wc)[k] for k in ("n_classes", "clips_per_fold", "sample_rate", "noise_level", "seed")
        },
    script:
        "../scripts/esc50/generate_data.py"


rule esc50_download_data:
    """ESC-50 master.zip (checksummed), extracted safely into the ESC-50 layout."""
    output:
        archive="data/{scale,paper}/esc50/master.zip",
        meta="data/{scale,paper}/esc50/meta/esc50.csv",
        audio=directory("data/{scale,paper}/esc50/audio"),
    params:
        url=lambda wc: esc50_cfg("data", wc)["url"],
        checksum=lambda wc: esc50_cfg("data", wc)["checksum"],
    script:
        "../scripts/esc50/download_data.py"


rule esc50_train_classifier:
    """One classifier of the classification recipe (AAM softmax, Adam; best validation epoch)."""
    input:
        unpack(esc50_classifier_inputs),
    output:
        model="results/{scale}/esc50/classifier/{arch,conv2d|cnn14|focalnet|vit}.pt",
        metrics="results/{scale}/esc50/classifier/{arch}.json",
    params:
        checkpoint="results/{scale}/esc50/checkpoints/classifier/{arch}.pt",
        folds=esc50_folds,
        seed=lambda wc: esc50_cfg("classify", wc)["seed"],
        hparams=lambda wc: esc50_cfg("classify", wc)[wc.arch],
        test_only=lambda wc: esc50_cfg("classify", wc)["test_only"],
        mask_augment=lambda wc: esc50_cfg("classify", wc)["mask_augment"],
    threads: job_threads("esc50", "classify")
    resources:
        **job_resources("esc50", "classify"),
    script:
        "../scripts/esc50/train_classifier.py"


rule esc50_train_piq:
    """The PIQ decoder of one classifier (VQ codebook with class partitioning, mask BCE)."""
    input:
        meta="data/{scale}/esc50/meta/esc50.csv",
        classifier="results/{scale}/esc50/classifier/{arch}.pt",
    output:
        model="results/{scale}/esc50/piq/{arch,conv2d|focalnet|vit}.pt",
        metrics="results/{scale}/esc50/piq/{arch}.json",
    params:
        checkpoint="results/{scale}/esc50/checkpoints/piq/{arch}.pt",
        folds=esc50_folds,
        hparams=esc50_hparams("piq"),
    threads: job_threads("esc50", "piq")
    resources:
        **job_resources("esc50", "piq"),
    script:
        "../scripts/esc50/train_piq.py"


rule esc50_train_nmf:
    """The NMF dictionary of L2I on the log1p magnitudes at one classifier's sample rate."""
    input:
        meta="data/{scale}/esc50/meta/esc50.csv",
    output:
        model="results/{scale}/esc50/nmf/{arch,conv2d|cnn14}.pt",
        metrics="results/{scale}/esc50/nmf/{arch}.json",
    params:
        checkpoint="results/{scale}/esc50/checkpoints/nmf/{arch}.pt",
        folds=esc50_folds,
        sample_rate=lambda wc: esc50_cfg("classify", wc)[wc.arch]["sample_rate"],
        hparams=esc50_hparams("nmf"),
    threads: job_threads("esc50", "nmf")
    resources:
        **job_resources("esc50", "nmf"),
    script:
        "../scripts/esc50/train_nmf.py"


rule esc50_train_l2i:
    """L2I's Psi and Theta on one frozen classifier and its NMF dictionary."""
    input:
        meta="data/{scale}/esc50/meta/esc50.csv",
        classifier="results/{scale}/esc50/classifier/{arch}.pt",
        nmf="results/{scale}/esc50/nmf/{arch}.pt",
    output:
        model="results/{scale}/esc50/l2i/{arch,conv2d|cnn14}.pt",
        metrics="results/{scale}/esc50/l2i/{arch}.json",
    params:
        checkpoint="results/{scale}/esc50/checkpoints/l2i/{arch}.pt",
        folds=esc50_folds,
        hparams=esc50_hparams("l2i"),
    threads: job_threads("esc50", "l2i")
    resources:
        **job_resources("esc50", "l2i"),
    script:
        "../scripts/esc50/train_l2i.py"


rule esc50_compute_interpretations:
    """Masks, interpretations and per-clip fidelity/faithfulness of one interpreter on the test fold."""
    input:
        unpack(esc50_interpreter_inputs),
    output:
        clips="results/{scale}/esc50/interpretations/{method,piq|l2i|amt}_{arch,conv2d|cnn14|focalnet|vit}.csv",
        arrays="results/{scale}/esc50/interpretations/{method}_{arch}.npz",
    params:
        folds=esc50_folds,
        amt=lambda wc: esc50_cfg("amt", wc),
    threads: job_threads("esc50", "piq")
    resources:
        **job_resources("esc50", "piq"),
    script:
        "../scripts/esc50/compute_interpretations.py"


rule esc50_compute_overlap:
    """The overlap test: PIQ (conv2d) on 0.8 source + 0.2 clip of another class."""
    input:
        meta="data/{scale}/esc50/meta/esc50.csv",
        classifier="results/{scale}/esc50/classifier/conv2d.pt",
        model="results/{scale}/esc50/piq/conv2d.pt",
    output:
        table="results/{scale}/esc50/overlap.csv",
        arrays="results/{scale}/esc50/overlap.npz",
    params:
        folds=esc50_folds,
        mix=lambda wc: esc50_cfg("piq", wc)["overlap_mix"],
    threads: job_threads("esc50", "piq")
    resources:
        **job_resources("esc50", "piq"),
    script:
        "../scripts/esc50/compute_overlap.py"


rule esc50_summarise_accuracy:
    """Classification accuracy of every classifier (validation and test folds)."""
    input:
        records=lambda wc: [f"results/{wc.scale}/esc50/classifier/{a}.json" for a in esc50_cfg("classify", wc)["archs"]],
    output:
        table="results/{scale}/esc50/accuracy_table.csv",
    params:
        scale=lambda wc: wc.scale,
    script:
        "../scripts/esc50/summarise_accuracy.py"


rule esc50_summarise_interpretations:
    """The interpretation table: fidelity-to-input and faithfulness (mask-in, mask-out) per interpreter."""
    input:
        clips=lambda wc: [f"results/{wc.scale}/esc50/interpretations/{m}_{a}.csv" for m, a in esc50_interpretations(wc.scale)],
    output:
        table="results/{scale}/esc50/interpretation_table.csv",
    params:
        scale=lambda wc: wc.scale,
    script:
        "../scripts/esc50/summarise_interpretations.py"


rule esc50_plot_interpretations:
    """Per test clip: log-spectrogram, thresholded input, interpretation, estimated mask."""
    input:
        arrays="results/{scale}/esc50/interpretations/{method}_{arch}.npz",
    output:
        figure=report("results/{scale}/esc50/fig_clips_{method,piq|l2i|amt}_{arch,conv2d|cnn14|focalnet|vit}.png", caption="../report/esc50/fig_clips.rst", category="esc50"),
    params:
        mask_th=lambda wc: study_cfg("esc50", "piq", wc.scale)["mask_th"],
        n_clips=config["esc50"]["plot"]["n_clips"],
        panel_width=config["esc50"]["plot"]["panel_width"],
        panel_height=config["esc50"]["plot"]["panel_height"],
    script:
        "../scripts/esc50/plot_interpretations.py"


rule esc50_plot_overlap:
    """The overlap test figure: source, noise, mixture, mask, interpretation."""
    input:
        arrays="results/{scale}/esc50/overlap.npz",
    output:
        figure=report("results/{scale}/esc50/fig_overlap.png", caption="../report/esc50/fig_overlap.rst", category="esc50"),
    params:
        n_clips=config["esc50"]["plot"]["n_clips"],
        panel_width=config["esc50"]["plot"]["panel_width"],
        panel_height=config["esc50"]["plot"]["panel_height"],
    script:
        "../scripts/esc50/plot_overlap.py"


rule esc50_write_audio:
    """Interpretation audio: inverse STFT of each interpretation with the original phase, one WAV per clip."""
    input:
        meta="data/{scale}/esc50/meta/esc50.csv",
        arrays="results/{scale}/esc50/interpretations/{method}_{arch}.npz",
        classifier="results/{scale}/esc50/classifier/{arch}.pt",
    output:
        audio=directory("results/{scale}/esc50/audio/{method,piq|l2i|amt}_{arch,conv2d|cnn14|focalnet|vit}"),
    script:
        "../scripts/esc50/write_audio.py"


rule esc50_write_claims:
    """claims.csv: planted-region recovery and fidelity above chance (demo), the published numbers (paper)."""
    input:
        interpretations="results/{scale}/esc50/interpretation_table.csv",
        accuracy="results/{scale}/esc50/accuracy_table.csv",
        overlap=lambda wc: [f"results/{wc.scale}/esc50/overlap.csv"] if "conv2d" in esc50_cfg("piq", wc)["archs"] else [],
    output:
        claims="results/{scale}/esc50/claims.csv",
    params:
        scale=lambda wc: wc.scale,
    script:
        "../scripts/esc50/write_claims.py"


rule esc50_classify:
    """Every classifier and the accuracy table."""
    input:
        esc50_classify_targets(SCALE),


rule esc50_piq:
    """PIQ interpretations, figures, audio and the overlap test."""
    input:
        esc50_method_targets(SCALE, "piq") + ([f"results/{SCALE}/esc50/overlap.csv", f"results/{SCALE}/esc50/fig_overlap.png"] if "conv2d" in study_cfg("esc50", "piq", SCALE)["archs"] else []),


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


