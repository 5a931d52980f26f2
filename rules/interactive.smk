# Study interactive: "Explainability Requires Interactivity" (Zieger et al. 2021).
# Chain: faces (CelebAMask-HQ layout) + flowers (Flowers102 layout) -> ResNet-18 classifiers
# -> captum heatmaps; faces -> generator (demo: trained here; paper: StyleGAN2-ADA pickle)
# -> phase 1 latent dataset -> phase 2 latent logistic regressions -> phase 3 projections and
# canvases -> claims.

include: "interactive_functions.smk"



localrules:
    interactive_place_celebamask_hq,
    interactive_place_stylegan2,
    interactive_download_flowers,
    interactive_train,
    interactive_heatmaps,
    interactive_generative,


wildcard_constraints:
    classifier=r"celeb-[A-Za-z0-9_]+|flowers102_c\d+-c\d+",
    attr=r"[A-Za-z0-9_]+",
    eval_attr=r"[A-Za-z0-9_]+",



rule interactive_generate_faces:
    """Demo stand-in for CelebAMask-HQ: cartoon faces with planted Smiling, Heavy_Makeup, Male, Young."""
    output:
        images=directory("data/demo/celebamask_hq/CelebA-HQ-img"),
        anno="data/demo/celebamask_hq/CelebAMask-HQ-attribute-anno.txt",
        regions="data/demo/celebamask_hq/regions.npz",
    params:
        faces=config["interactive"]["celeb"]["demo"],
    script:
        "../scripts/interactive/generate_faces.py"


rule interactive_generate_flowers:
    """Demo stand-in for Flowers102: four classes differing only in the petals (49/65) or the centre (63/54)."""
    output:
        images=directory("data/demo/flowers102/jpg"),
        labels="data/demo/flowers102/imagelabels.mat",
        regions="data/demo/flowers102/regions.npz",
    params:
        flowers=config["interactive"]["flowers"]["demo"],
    script:
        "../scripts/interactive/generate_flowers.py"


rule interactive_place_celebamask_hq:
    """CelebAMask-HQ lives on Google Drive: stops with where to put the archive (a local rule)."""
    output:
        archive=config["interactive"]["celeb"]["paper"]["archive"],
    script:
        "../scripts/interactive/place_celebamask_hq.py"


rule interactive_extract_celebamask_hq:
    """Verify the hand-placed CelebAMask-HQ archive (sha256 if configured, layout) and extract it safely."""
    input:
        archive=config["interactive"]["celeb"]["paper"]["archive"],
    output:
        images=directory("data/paper/celebamask_hq/CelebA-HQ-img"),
        anno="data/paper/celebamask_hq/CelebAMask-HQ-attribute-anno.txt",
    params:
        sha256=config["interactive"]["celeb"]["paper"]["archive_sha256"],
    script:
        "../scripts/interactive/extract_celebamask_hq.py"


rule interactive_download_flowers:
    """Flowers102 images and labels from Oxford VGG, md5-checked (a local rule)."""
    output:
        archive="data/paper/flowers102/raw/102flowers.tgz",
        labels="data/paper/flowers102/raw/imagelabels.mat",
    retries: 2
    params:
        flowers=config["interactive"]["flowers"]["paper"],
    script:
        "../scripts/interactive/download_flowers.py"


rule interactive_extract_flowers:
    """Safely extract 102flowers.tgz (jpg/) beside imagelabels.mat."""
    input:
        archive="data/paper/flowers102/raw/102flowers.tgz",
        labels="data/paper/flowers102/raw/imagelabels.mat",
    output:
        images=directory("data/paper/flowers102/jpg"),
        labels="data/paper/flowers102/imagelabels.mat",
    script:
        "../scripts/interactive/extract_flowers.py"


rule interactive_train_classifier:
    """One ResNet-18 classifier (celeb attribute or flower pair): body frozen, then unfrozen (train.py)."""
    input:
        unpack(ia_classifier_data),
    output:
        model="results/{scale}/interactive/classifiers/{classifier}.pt",
        metrics="results/{scale}/interactive/classifiers/{classifier}.json",
    params:
        checkpoint="results/{scale}/interactive/checkpoints/classifiers/{classifier}.pt",
        train=lambda wc: {k: v for k, v in study_cfg("interactive", "train", wc.scale).items() if k not in ("attrs", "flower_pairs", "resources")},
    threads: job_threads("interactive", "train")
    resources:
        **job_resources("interactive", "train"),
    script:
        "../scripts/interactive/train_classifier.py"


rule interactive_summarise_classifiers:
    """Validation accuracy and BCE of every classifier against the class baseline."""
    input:
        metrics=ia_per_classifier("results/{scale}/interactive/classifiers/{classifier}.json"),
    output:
        table="results/{scale}/interactive/classifiers.csv",
    script:
        "../scripts/interactive/summarise_classifiers.py"


rule interactive_compute_heatmaps:
    """Integrated Gradients, SmoothGrad^2 saliency, Guided Backprop, Guided GradCAM of validation images (batched)."""
    input:
        unpack(ia_heatmap_inputs),
    output:
        attributions="results/{scale}/interactive/heatmaps/{classifier}.npz",
        table="results/{scale}/interactive/heatmaps/{classifier}.csv",
    params:
        heatmaps=ia_cfg("heatmaps"),
        data=lambda wc: {k: study_cfg("interactive", "train", wc.scale)[k] for k in ("size", "split_seed", "ratio", "flowers_pad", "flowers_crop_ratio")},
    threads: job_threads("interactive", "heatmaps")
    resources:
        **job_resources("interactive", "heatmaps"),
    script:
        "../scripts/interactive/compute_heatmaps.py"


rule interactive_summarise_heatmaps:
    """Planted-region mass and gradient correlation of every classifier's heatmaps."""
    input:
        tables=ia_per_classifier("results/{scale}/interactive/heatmaps/{classifier}.csv"),
    output:
        table="results/{scale}/interactive/heatmaps.csv",
    script:
        "../scripts/interactive/summarise_heatmaps.py"


rule interactive_plot_heatmaps:
    """The heatmap figure of one classifier: a row per image, captum's normalisation, seismic in [-1, 1]."""
    input:
        attributions="results/{scale}/interactive/heatmaps/{classifier}.npz",
    output:
        figure=report("results/{scale}/interactive/fig_heatmaps_{classifier}.png", caption="../report/interactive/fig_heatmaps.rst", category="interactive"),
    params:
        plot=config["interactive"]["plot"],
    script:
        "../scripts/interactive/plot_heatmaps.py"


rule interactive_place_stylegan2:
    """The StyleGAN2-ADA generator pickle is user-provided: stops with where to put it (a local rule)."""
    output:
        pickle="data/paper/stylegan2/{name}.pkl",
    script:
        "../scripts/interactive/place_stylegan2.py"


rule interactive_train_generator:
    """Demo generator with the StyleGAN2 interface: autoencoder decoder + fitted Gaussian mapping."""
    input:
        anno="data/{scale}/celebamask_hq/CelebAMask-HQ-attribute-anno.txt",
        images="data/{scale}/celebamask_hq/CelebA-HQ-img",
    output:
        model="results/{scale}/interactive/generator/generator.pt",
        metrics="results/{scale}/interactive/generator/generator.json",
    wildcard_constraints:
        scale="demo",
    params:
        checkpoint="results/{scale}/interactive/checkpoints/generator.pt",
        generator=config["interactive"]["generator"]["demo"],
    threads: job_threads("interactive", "generator")
    resources:
        **job_resources("interactive", "generator"),
    script:
        "../scripts/interactive/train_generator.py"


rule interactive_create_latent_dataset:
    """Phase 1: sampled latent codes (truncation sign corrected) labelled by every attribute classifier."""
    input:
        unpack(lambda wc: {"generator": ia_generator(wc), **ia_attr_classifiers(wc)}),
    output:
        dataset="results/{scale}/interactive/latent/dataset.npz",
        record="results/{scale}/interactive/latent/dataset.json",
    params:
        generative=ia_cfg("generative"),
        generator=ia_cfg("generator"),
        classifier_size=lambda wc: study_cfg("interactive", "train", wc.scale)["size"],
        attrs=lambda wc: study_cfg("interactive", "generative", wc.scale)["attrs"],
    threads: job_threads("interactive", "generative")
    resources:
        **job_resources("interactive", "generative"),
    script:
        "../scripts/interactive/create_latent_dataset.py"


rule interactive_train_latent_model:
    """Phase 2: the latent logistic regression of one attribute (BCE on soft labels, Adam)."""
    input:
        dataset="results/{scale}/interactive/latent/dataset.npz",
    output:
        model="results/{scale}/interactive/latent/models/{attr}.pt",
        metrics="results/{scale}/interactive/latent/models/{attr}.json",
    params:
        checkpoint="results/{scale}/interactive/checkpoints/latent/{attr}.pt",
        generative=ia_cfg("generative"),
    threads: job_threads("interactive", "generative")
    resources:
        **job_resources("interactive", "generative"),
    script:
        "../scripts/interactive/train_latent_model.py"


rule interactive_summarise_latent_models:
    """The latent-model quality table: BCE and accuracy against a constant baseline."""
    input:
        metrics=ia_latent_records,
        record="results/{scale}/interactive/latent/dataset.json",
    output:
        table="results/{scale}/interactive/latent_models.csv",
    script:
        "../scripts/interactive/summarise_latent_models.py"


rule interactive_explain_generative:
    """Phase 3: project input images into w, move along every attribute direction, score each frame."""
    input:
        unpack(lambda wc: {"generator": ia_generator(wc), "anno": f"data/{wc.scale}/celebamask_hq/CelebAMask-HQ-attribute-anno.txt"}),
        classifiers=lambda wc: list(ia_phase3_classifiers(wc).values()),
        latent=lambda wc: list(ia_latent_models(wc).values()),
    output:
        frames="results/{scale}/interactive/generative/{eval_attr}.npz",
        scores="results/{scale}/interactive/generative/{eval_attr}.csv",
    params:
        generative=ia_cfg("generative"),
        generator=ia_cfg("generator"),
        data=lambda wc: {k: study_cfg("interactive", "train", wc.scale)[k] for k in ("size", "split_seed", "ratio")},
        classifier_names=lambda wc: list(ia_phase3_classifiers(wc)),
        latent_names=lambda wc: list(ia_latent_models(wc)),
    threads: job_threads("interactive", "generative")
    resources:
        **job_resources("interactive", "generative"),
    script:
        "../scripts/interactive/explain_generative.py"


rule interactive_plot_canvases:
    """Generative explanation canvases of one evaluated classifier: frames under score bars."""
    input:
        frames="results/{scale}/interactive/generative/{eval_attr}.npz",
    output:
        figure=report("results/{scale}/interactive/fig_canvases_{eval_attr}.png", caption="../report/interactive/fig_canvases.rst", category="interactive"),
    params:
        plot=config["interactive"]["plot"],
    script:
        "../scripts/interactive/plot_canvases.py"


rule interactive_summarise_generative:
    """Per direction: how monotonically the classifier score follows the move along the latent direction."""
    input:
        scores=ia_per_eval_attr("results/{scale}/interactive/generative/{eval_attr}.csv"),
    output:
        table="results/{scale}/interactive/generative.csv",
    params:
        claims=ia_cfg("claims"),
    script:
        "../scripts/interactive/summarise_generative.py"


rule interactive_write_claims:
    """claims.csv of the interactive study (planted truth at demo scale)."""
    input:
        classifiers="results/{scale}/interactive/classifiers.csv",
        heatmaps="results/{scale}/interactive/heatmaps.csv",
        latent="results/{scale}/interactive/latent_models.csv",
        generative="results/{scale}/interactive/generative.csv",
        latent_record="results/{scale}/interactive/latent/dataset.json",
    output:
        claims=report("results/{scale}/interactive/claims.csv", caption="../report/interactive/claims.rst", category="interactive"),
    params:
        scale="{scale}",
        claims=ia_cfg("claims"),
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


