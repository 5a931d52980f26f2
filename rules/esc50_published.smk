# Study esc50, weights: published (docs/published-weights.md): the recipes' released model
# files, fetched (checksummed, or read from published.dir) and imported key for key into our
# classes; the interpretation rules of esc50.smk read the imports (ESC50_MODELS).


localrules:
    esc50_download_published,


rule esc50_download_published:
    """One of the recipes' published model files (weights: published): downloaded and checked, or read from published.dir."""
    output:
        weights=ESC50_PUBLISHED,
    wildcard_constraints:
        item=r"[a-z0-9_]+",
    params:
        source=esc50_published_source,
    script:
        "../scripts/esc50/download_published.py"


rule esc50_import_classifier:
    """A published classifier (embedding model + head) loaded key for key, with its validation and test accuracy."""
    input:
        unpack(esc50_import_classifier_inputs),
    output:
        model="results/{scale}/esc50/published/classifier/{arch}.pt",
        metrics="results/{scale}/esc50/published/classifier/{arch}.json",
    params:
        folds=esc50_folds,
        hparams=esc50_classifier,
    script:
        "../scripts/esc50/import_classifier.py"


# kind nmf: the one published dictionary (PIQ-ESC50 nmf_decoder.ckpt) serves every L2I
# classifier, as in l2i_conv2d.yaml and l2i_cnn14.yaml; piq and l2i decode the imported classifier
rule esc50_import_interpreter:
    """A published PIQ decoder, L2I Psi + Theta or NMF dictionary loaded key for key into ours."""
    input:
        unpack(esc50_import_interpreter_inputs),
    output:
        model="results/{scale}/esc50/published/{kind}/{arch}.pt",
    wildcard_constraints:
        kind="piq|l2i|nmf",
    params:
        hparams=esc50_import_hparams,
    script:
        "../scripts/esc50/import_interpreter.py"
