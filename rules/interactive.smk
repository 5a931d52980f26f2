# Study interactive (Zieger et al. 2021): classifiers -> heatmaps; generator -> latents, canvases (phases 1-3) -> claims.
include: "interactive_functions.smk"
include: "interactive_user_data.smk"


wildcard_constraints:
    classifier=IA_CLASSIFIER,
    attr=r"[A-Za-z0-9_]+|ff-skin-color",
    eval_attr=r"[A-Za-z0-9_]+",


rule interactive_generate_faces:
    """Demo stand-in for CelebAMask-HQ: cartoon faces with planted Smiling, Heavy_Makeup, Male, Young."""
    output:
        images=directory("data/demo/celebamask_hq/CelebA-HQ-img"),
        anno="data/demo/celebamask_hq/CelebAMask-HQ-attribute-anno.txt",
        regions="data/demo/celebamask_hq/regions.npz",
    params:
        faces=setting("interactive", "celeb", keys=IA_FACES, scale="demo"),
    script:
        "../scripts/interactive/generate_faces.py"


rule interactive_generate_flowers:
    """Demo stand-in for Flowers102: four classes differing only in the petals (49/65) or the centre (63/54)."""
    output:
        images=directory("data/demo/flowers102/jpg"),
        labels="data/demo/flowers102/imagelabels.mat",
        regions="data/demo/flowers102/regions.npz",
    params:
        flowers=setting("interactive", "flowers", keys=IA_FLOWERS, scale="demo"),
    script:
        "../scripts/interactive/generate_flowers.py"


rule interactive_place_celebamask_hq:
    """CelebAMask-HQ lives on Google Drive: stops with where to put the archive (a local rule)."""
    output:
        archive=setting("interactive", "celeb", "archive", scale="paper"),
    localrule: True
    script:
        "../scripts/interactive/place_celebamask_hq.py"


rule interactive_extract_celebamask_hq:
    """Verify the hand-placed CelebAMask-HQ archive (sha256 if configured, layout) and extract it safely."""
    input:
        archive=rules.interactive_place_celebamask_hq.output.archive,
    output:
        images=directory("data/paper/celebamask_hq/CelebA-HQ-img"),
        anno="data/paper/celebamask_hq/CelebAMask-HQ-attribute-anno.txt",
    params:
        sha256=setting("interactive", "celeb", "archive_sha256", scale="paper"),
    script:
        "../scripts/interactive/extract_celebamask_hq.py"


rule interactive_download_flowers:
    """Flowers102 images and labels from Oxford VGG, md5-checked (a local rule)."""
    output:
        archive="data/paper/flowers102/raw/102flowers.tgz",
        labels="data/paper/flowers102/raw/imagelabels.mat",
    retries: 2
    localrule: True
    params:
        flowers=setting("interactive", "flowers", keys=IA_FLOWERS_DOWNLOAD, scale="paper"),
    script:
        "../scripts/interactive/download_flowers.py"


rule interactive_extract_flowers:
    """Safely extract 102flowers.tgz (jpg/) beside imagelabels.mat."""
    input:
        archive=rules.interactive_download_flowers.output.archive,
        labels=rules.interactive_download_flowers.output.labels,
    output:
        images=directory("data/paper/flowers102/jpg"),
        labels="data/paper/flowers102/imagelabels.mat",
    script:
        "../scripts/interactive/extract_flowers.py"


rule interactive_train_classifier:
    """One ResNet-18 classifier (celeb attribute or flower pair): body frozen, then unfrozen (train.py)."""
    input:
        unpack(ia_classifier_data),
        imagenet=ia_imagenet_weights,
    output:
        model="results/{scale}/interactive/classifiers/{classifier}.pt",
        metrics="results/{scale}/interactive/classifiers/{classifier}.json",
    threads: job_threads("interactive", "train")
    resources:
        **job_resources("interactive", "train"),
    params:
        checkpoint="results/{scale}/interactive/checkpoints/classifiers/{classifier}.pt",
        train=setting("interactive", "train", keys=IA_TRAIN),
    script:
        "../scripts/interactive/train_classifier.py"


rule interactive_summarise_classifiers:
    """Validation accuracy and BCE of every classifier against the class baseline."""
    input:
        metrics=per_run(rules.interactive_train_classifier.output.metrics, ia_classifier_runs),
    output:
        table="results/{scale}/interactive/classifiers.csv",
    script:
        "../scripts/interactive/summarise_classifiers.py"


rule interactive_compute_heatmaps:
    """IG, SmoothGrad^2, Guided Backprop, Guided GradCAM of validation images (batched), and randomised controls."""
    input:
        unpack(ia_classifier_data),
        model=ia_classifier_model,
        regions=ia_regions,
    output:
        attributions="results/{scale}/interactive/heatmaps/{classifier}.npz",
        table="results/{scale}/interactive/heatmaps/{classifier}.csv",
        validation="results/{scale}/interactive/heatmaps/{classifier}.json",
    threads: job_threads("interactive", "heatmaps")
    resources:
        **job_resources("interactive", "heatmaps"),
    params:
        heatmaps=setting("interactive", "heatmaps", keys=IA_HEATMAPS),
        data=setting("interactive", "train", keys=IA_SPLIT + ("flowers_pad", "flowers_crop_ratio")),
        control_methods=ia_control_methods,
    script:
        "../scripts/interactive/compute_heatmaps.py"


rule interactive_summarise_heatmaps:
    """Planted-region mass and gradient correlation of every classifier's heatmaps."""
    input:
        tables=per_run(rules.interactive_compute_heatmaps.output.table, ia_classifier_runs),
    output:
        table="results/{scale}/interactive/heatmaps.csv",
    script:
        "../scripts/interactive/summarise_heatmaps.py"


rule interactive_plot_heatmaps:
    """The heatmap figure of one classifier (or FairFace output): a row per image, captum's normalisation, seismic [-1, 1], a colourbar."""
    input:
        attributions="results/{scale}/interactive/heatmaps/{classifier}.npz",
    output:
        figure=report(
            "results/{scale}/interactive/fig_heatmaps_{classifier}.png",
            caption="../report/interactive/fig_heatmaps.rst",
            category="interactive",
        ),
    wildcard_constraints:
        classifier=f"{IA_CLASSIFIER}|{IA_FAIRFACE}|{IA_USER}",
    params:
        plot=setting("interactive", "plot", keys=IA_HEATMAP_PLOT),
        outlier_perc=setting("interactive", "heatmaps", "outlier_perc"),
    script:
        "../scripts/interactive/plot_heatmaps.py"


rule interactive_download_published:
    """One classifier the originals publish (weights: published), from the user's folder or its mirrors, checksum-checked (a local rule)."""
    output:
        weights="data/paper/published/interactive/{classifier}.pt",
    retries: 2
    localrule: True
    params:
        source=ia_published_source,
    script:
        "../scripts/interactive/download_published.py"


rule interactive_place_fairface:
    """FairFace's weights are user-provided: stops with where to get them and where to put them (a local rule)."""
    output:
        weights=setting("interactive", "heatmaps", "fairface_path", scale="paper"),
    localrule: True
    script:
        "../scripts/interactive/place_fairface.py"


rule interactive_compute_fairface_heatmaps:
    """The same heatmaps of FairFace's gender or age output (static_exp.py --model_name fairface --attr)."""
    input:
        unpack(ia_fairface_images),
        weights=rules.interactive_place_fairface.output.weights,
    output:
        attributions="results/{scale}/interactive/heatmaps/{classifier}.npz",
        table="results/{scale}/interactive/heatmaps/{classifier}.csv",
    wildcard_constraints:
        classifier=IA_FAIRFACE,
    threads: job_threads("interactive", "heatmaps")
    resources:
        **job_resources("interactive", "heatmaps"),
    params:
        heatmaps=setting("interactive", "heatmaps", keys=IA_HEATMAPS + IA_FAIRFACE_KEYS),
        data=setting("interactive", "train", keys=IA_SPLIT),
    script:
        "../scripts/interactive/compute_fairface_heatmaps.py"


include: "interactive_generative.smk"


rule interactive_write_claims:
    """claims.csv of the interactive study: one-sided tests against negative controls, and invariants."""
    input:
        # with user_data only `user` (your classifier's heatmap table); the others are then empty
        validation=ia_claims_input("validation"),
        heatmaps=ia_claims_input("heatmaps"),
        moves=ia_claims_input("moves"),
        latent_record=ia_claims_input("latent_record"),
        user=ia_claims_input("user"),
    output:
        claims=report(
            "results/{scale}/interactive/claims.csv",
            caption="../report/interactive/claims.rst",
            category="interactive",
        ),
    params:
        claims=setting("interactive", "claims"),
    script:
        "../scripts/interactive/write_claims.py"


rule interactive_train:
    """Named target: every classifier of the configured scale and their table."""
    input:
        interactive_train_targets(SCALE),


rule interactive_heatmaps:
    """Named target: the static explanations (heatmap figures and their table)."""
    input:
        interactive_heatmap_targets(SCALE),


rule interactive_generative:
    """Named target: phases 1-3 (latent dataset, latent models, canvases)."""
    input:
        interactive_generative_targets(SCALE),
