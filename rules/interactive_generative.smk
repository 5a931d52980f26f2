# Study interactive, the generative explanations: the generator (demo-trained or user-provided), phases 1-3,
# and torchvision's pretrained networks (the classifiers' ImageNet start, the projection's VGG16).


rule interactive_download_pretrained:
    """torchvision's ImageNet weights file of one network (resnet18, vgg16), sha256-checked (a local rule)."""
    output:
        weights="data/paper/pretrained/{net}.pth",
    wildcard_constraints:
        net="resnet18|vgg16",
    retries: 2
    localrule: True
    params:
        source=ia_pretrained_source,
    script:
        "../scripts/interactive/download_pretrained.py"


rule interactive_place_stylegan2:
    """The StyleGAN2-ADA generator pickle is user-provided: stops with where to put it (a local rule)."""
    output:
        pickle="data/paper/stylegan2/{name}.pkl",
    localrule: True
    script:
        "../scripts/interactive/place_stylegan2.py"


rule interactive_place_published_generator:
    """NVlabs' FFHQ generator converted once to a weights-only file (weights: published) is placed by hand: stops with how (a local rule)."""
    output:
        generator="data/paper/stylegan2/{name}-G_ema.pt",
    localrule: True
    script:
        "../scripts/interactive/place_published_generator.py"


rule interactive_train_generator:
    """Demo generator with the StyleGAN2 interface: autoencoder decoder + fitted Gaussian mapping."""
    input:
        anno=rules.interactive_generate_faces.output.anno,
        images=rules.interactive_generate_faces.output.images,
        image_files=files_under(rules.interactive_generate_faces.output.images),
    output:
        model="results/{scale}/interactive/generator/generator.pt",
        metrics="results/{scale}/interactive/generator/generator.json",
    wildcard_constraints:
        scale="demo",
    threads: job_threads("interactive", "generator")
    resources:
        **job_resources("interactive", "generator"),
    params:
        checkpoint="results/{scale}/interactive/checkpoints/generator.pt",
        generator=setting("interactive", "generator", keys=IA_GENERATOR),
    script:
        "../scripts/interactive/train_generator.py"


rule interactive_create_latent_dataset:
    """Phase 1: sampled latent codes (truncation sign corrected) labelled by every attribute classifier (ff-skin-color: FairFace)."""
    input:
        generator=ia_generator,
        classifiers=ia_direction_classifiers,
    output:
        dataset="results/{scale}/interactive/latent/dataset.npz",
        record="results/{scale}/interactive/latent/dataset.json",
    threads: job_threads("interactive", "generative")
    resources:
        **job_resources("interactive", "generative"),
    params:
        phase1=ia_phase1,
        generator=setting("interactive", "generator", keys=IA_PICKLE),
        classifier_size=setting("interactive", "train", "size"),
    script:
        "../scripts/interactive/create_latent_dataset.py"


rule interactive_train_latent_model:
    """Phase 2: the latent logistic regression of one attribute (BCE on soft labels, Adam)."""
    input:
        dataset=rules.interactive_create_latent_dataset.output.dataset,
    output:
        model="results/{scale}/interactive/latent/models/{attr}.pt",
        metrics="results/{scale}/interactive/latent/models/{attr}.json",
    threads: job_threads("interactive", "generative")
    resources:
        **job_resources("interactive", "generative"),
    params:
        checkpoint="results/{scale}/interactive/checkpoints/latent/{attr}.pt",
        phase2=setting("interactive", "generative", keys=IA_PHASE2),
    script:
        "../scripts/interactive/train_latent_model.py"


rule interactive_summarise_latent_models:
    """The latent-model quality table: BCE and accuracy against a constant baseline."""
    input:
        metrics=per_run(rules.interactive_train_latent_model.output.metrics, ia_attr_runs),
        record=rules.interactive_create_latent_dataset.output.record,
    output:
        table="results/{scale}/interactive/latent_models.csv",
    script:
        "../scripts/interactive/summarise_latent_models.py"


rule interactive_explain_generative:
    """Phase 3: project input images into w, move along every attribute direction, score each frame."""
    input:
        generator=ia_generator,
        anno=IA_DATA["celeb"]["labels"],
        image_files=files_under(IA_DATA["celeb"]["images"]),
        classifiers=ia_phase3_classifiers,
        latent=per_run(rules.interactive_train_latent_model.output.model, ia_attr_runs),
        vgg16=ia_vgg16_weights,
    output:
        frames="results/{scale}/interactive/generative/{eval_attr}.npz",
        scores="results/{scale}/interactive/generative/{eval_attr}.csv",
    threads: job_threads("interactive", "generative")
    resources:
        **job_resources("interactive", "generative"),
    params:
        phase3=setting("interactive", "generative", keys=IA_PHASE3),
        generator=setting("interactive", "generator", keys=IA_PICKLE),
        data=setting("interactive", "train", keys=IA_SPLIT),
        names=ia_phase3_names,
    script:
        "../scripts/interactive/explain_generative.py"


rule interactive_plot_canvases:
    """Generative explanation canvases of one evaluated classifier: frames under score bars, a page per direction."""
    input:
        frames=rules.interactive_explain_generative.output.frames,
    output:
        pages=report(
            directory("results/{scale}/interactive/fig_canvases_{eval_attr}"),
            patterns=["{name}.png"],
            caption="../report/interactive/fig_canvases.rst",
            category="interactive",
        ),
    params:
        plot=setting("interactive", "plot", keys=IA_CANVAS_PLOT),
    script:
        "../scripts/interactive/plot_canvases.py"


rule interactive_summarise_generative:
    """Per direction: how monotonically the classifier score follows the move along the latent direction."""
    input:
        scores=per_run(rules.interactive_explain_generative.output.scores, ia_eval_attr_runs),
    output:
        table="results/{scale}/interactive/generative.csv",
    params:
        mono_tol=setting("interactive", "claims", "mono_tol"),
    script:
        "../scripts/interactive/summarise_generative.py"
