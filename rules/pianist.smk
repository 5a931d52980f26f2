# Study pianist: LIME and TCAV explanations of a jazz-pianist classifier on piano rolls
# (Cheston, Bance & Harrison 2025). Clips -> note table -> ResNet baseline (LIME figures) and
# DisentangleNet (harmony CAVs -> sign counts -> heatmaps) -> claims. Demo: synthetic
# performers with planted concepts; paper: the Zenodo 14774191 archive.


include: "pianist_functions.smk"


wildcard_constraints:
    model="resnet|disentangle",


localrules:
    pianist_download_archive,
    pianist_download_published,
    pianist_lime,
    pianist_tcav,


rule pianist_generate_data:
    """Demo corpus: synthetic performers (planted concept vocabularies) cut into clips, a
    track-level split, concept MIDIs from chord rules, and truth.json (no network); or, with
    pianist.user_data.path set, the user's clips checked up front and converted (no truth)."""
    input:
        user_files=pn_user_data_files,
    output:
        clips=directory("data/demo/pianist/clips"),
        splits=directory("data/demo/pianist/splits"),
        voicings=directory("data/demo/pianist/voicings"),
        raw=directory("data/demo/pianist/raw"),
        truth="data/demo/pianist/truth.json",
    params:
        root=lambda wildcards, output: str(Path(output.truth).parent),
        demo=setting("pianist", "data", keys=PN_DEMO, scale="demo"),
        user_data=pn_user_data,
    script:
        "../scripts/pianist/generate_data.py"


rule pianist_download_archive:
    """The paper archive (Zenodo record 14774191), checked against Zenodo's published md5 or a
    pinned sha256; a file placed by hand is accepted if it matches (local rule)."""
    output:
        archive="data/paper/pianist/archive.zip",
        checksum="data/paper/pianist/archive.checksum",
    retries: 2
    params:
        urls=setting("pianist", "data", "archive_urls", scale="paper"),
        name=setting("pianist", "data", "archive_name", scale="paper"),
        record_api=setting("pianist", "data", "zenodo_record_api", scale="paper"),
        sha256=setting("pianist", "data", "archive_sha256", scale="paper"),
    script:
        "../scripts/pianist/download_archive.py"


rule pianist_extract_archive:
    """Verify the archive again and extract it safely into clips/, splits/ and voicings/."""
    input:
        archive=rules.pianist_download_archive.output.archive,
        checksum=rules.pianist_download_archive.output.checksum,
    output:
        clips=directory("data/paper/pianist/clips"),
        splits=directory("data/paper/pianist/splits"),
        voicings=directory("data/paper/pianist/voicings"),
    params:
        split_dir=setting("pianist", "data", "split_dir", scale="paper"),
    script:
        "../scripts/pianist/extract_archive.py"


rule pianist_prepare_clips:
    """Every clip of the split tables as one note table; a corrupt or empty clip stops here."""
    input:
        clips="data/{scale}/pianist/clips",
        splits="data/{scale}/pianist/splits",
        # directories are dated by their own mtime: the files inside, so that an edited clip reruns
        clip_files=files_under("data/{scale}/pianist/clips"),
        split_files=files_under("data/{scale}/pianist/splits"),
    output:
        data="data/{scale}/pianist/clips.npz",
    params:
        clip_seconds=setting("pianist", "data", "clip_seconds"),
        min_duration=setting("pianist", "data", "min_duration"),
    script:
        "../scripts/pianist/prepare_clips.py"


rule pianist_train_model:
    """Train the resnet baseline or DisentangleNet (augmented), evaluate it on the held-out
    splits: clip and track accuracy, confusion counts (resumes from its checkpoint)."""
    input:
        data=rules.pianist_prepare_clips.output.data,
    output:
        model="results/{scale}/pianist/models/{model}.pt",
        metrics="results/{scale}/pianist/models/{model}.json",
        accuracy="results/{scale}/pianist/accuracy_{model}.csv",
        confusion="results/{scale}/pianist/confusion_{model}.csv",
    threads: job_threads("pianist", "{model}")
    resources:
        **job_resources("pianist", "{model}"),
    params:
        checkpoint="results/{scale}/pianist/checkpoints/{model}.pt",
        roll=setting("pianist", "data", keys=PN_ROLL),
        train=pn_train,
    script:
        "../scripts/pianist/train_model.py"


rule pianist_compute_lime:
    """LIME (quickshift superpixels) of every held-out clip for the baseline: the top-5
    positive superpixels of the top class and the share of the roll's notes they cover (the
    explanation cache); demo: the same LIME with the original's quickshift kernel (control)."""
    input:
        data=rules.pianist_prepare_clips.output.data,
        model=pn_model("resnet"),
    output:
        explanations="results/{scale}/pianist/lime/explanations.npz",
    threads: job_threads("pianist", "lime")
    resources:
        **job_resources("pianist", "lime"),
    params:
        roll=setting("pianist", "data", keys=PN_ROLL),
        lime=setting("pianist", "lime", keys=PN_LIME),
    script:
        "../scripts/pianist/compute_lime.py"


rule pianist_plot_lime:
    """LIME piano rolls: one figure per held-out clip, grouped by performer (mm:ss, octaves)."""
    input:
        data=rules.pianist_prepare_clips.output.data,
        explanations=rules.pianist_compute_lime.output.explanations,
    output:
        figures=report(
            directory("results/{scale}/pianist/lime/figures"),
            patterns=["{performer}/{name}.png"],
            caption="../report/pianist/lime.rst",
            category="pianist",
        ),
    params:
        roll=setting("pianist", "data", keys=PN_ROLL),
        n_features=setting("pianist", "lime", "num_features"),
        width=setting("pianist", "plot", "lime_width"),
        height=setting("pianist", "plot", "lime_height"),
    script:
        "../scripts/pianist/plot_lime.py"


rule pianist_compute_cavs:
    """Concept CAVs (n_experiments per concept, fresh negatives), random CAVs and control CAVs
    (a random concept per concept and experiment) on the harmony branch's last block: a
    declared npz output, rebuilt whenever its inputs change."""
    input:
        data=rules.pianist_prepare_clips.output.data,
        model=pn_model("disentangle"),
        voicings="data/{scale}/pianist/voicings",
        voicing_files=files_under("data/{scale}/pianist/voicings"),
    output:
        cavs="results/{scale}/pianist/tcav/cavs.npz",
    threads: job_threads("pianist", "tcav")
    resources:
        **job_resources("pianist", "tcav"),
    params:
        roll=setting("pianist", "data", keys=PN_ROLL),
        cav=pn_cav,
    script:
        "../scripts/pianist/compute_cavs.py"


rule pianist_compute_sensitivities:
    """Gradient x activation sensitivities of every held-out clip to every CAV (JSON) and
    the sign counts and magnitudes per performer, concept and experiment."""
    input:
        data=rules.pianist_prepare_clips.output.data,
        model=pn_model("disentangle"),
        cavs=rules.pianist_compute_cavs.output.cavs,
    output:
        sensitivities="results/{scale}/pianist/tcav/sensitivities.json",
        sign_counts="results/{scale}/pianist/tcav/sign_counts_experiments.csv",
    threads: job_threads("pianist", "tcav")
    resources:
        **job_resources("pianist", "tcav"),
    params:
        roll=setting("pianist", "data", keys=PN_ROLL),
        attribution=setting("pianist", "tcav", keys=PN_ATTRIBUTION),
    script:
        "../scripts/pianist/compute_sensitivities.py"


rule pianist_summarise_tcav:
    """Mean sign counts (Wilcoxon vs random, Bonferroni stars) and the concept-concept and
    performer-performer Pearson correlations."""
    input:
        sign_counts=rules.pianist_compute_sensitivities.output.sign_counts,
    output:
        summary="results/{scale}/pianist/tcav_sign_counts.csv",
        concepts="results/{scale}/pianist/concept_correlation.csv",
        performers="results/{scale}/pianist/performer_correlation.csv",
    script:
        "../scripts/pianist/summarise_tcav.py"


rule pianist_plot_tcav:
    """The performer x concept sign-count heatmap and the two correlation heatmaps, rows and
    columns in dendrogram order."""
    input:
        summary=rules.pianist_summarise_tcav.output.summary,
        concepts=rules.pianist_summarise_tcav.output.concepts,
        performers=rules.pianist_summarise_tcav.output.performers,
    output:
        sign_counts=report(
            "results/{scale}/pianist/fig_tcav_sign_counts.png",
            caption="../report/pianist/fig_tcav_sign_counts.rst",
            category="pianist",
        ),
        concepts=report(
            "results/{scale}/pianist/fig_concept_correlation.png",
            caption="../report/pianist/fig_concept_correlation.rst",
            category="pianist",
        ),
        performers=report(
            "results/{scale}/pianist/fig_performer_correlation.png",
            caption="../report/pianist/fig_performer_correlation.rst",
            category="pianist",
        ),
    params:
        width=setting("pianist", "plot", "width"),
        height=setting("pianist", "plot", "height"),
        cmap=setting("pianist", "plot", "cmap"),
    script:
        "../scripts/pianist/plot_tcav.py"


rule pianist_compute_kernel_heatmaps:
    """Kernel occlusion of the named clips (sensitivity_heatmap_clips, or the default clip
    when the list is empty): notes under the kernel deleted, sensitivity recomputed."""
    input:
        data=rules.pianist_prepare_clips.output.data,
        model=pn_model("disentangle"),
        cavs=rules.pianist_compute_cavs.output.cavs,
    output:
        heatmaps="results/{scale}/pianist/tcav/kernel_heatmaps.npz",
    threads: job_threads("pianist", "tcav")
    resources:
        **job_resources("pianist", "tcav"),
    params:
        roll=setting("pianist", "data", keys=PN_ROLL),
        heatmap=pn_heatmap,
    script:
        "../scripts/pianist/compute_kernel_heatmaps.py"


rule pianist_plot_kernel_heatmaps:
    """One kernel-occlusion figure per named clip, one panel per concept."""
    input:
        heatmaps=rules.pianist_compute_kernel_heatmaps.output.heatmaps,
    output:
        figures=report(
            directory("results/{scale}/pianist/kernel_heatmaps"),
            patterns=["{name}.png"],
            caption="../report/pianist/kernel_heatmaps.rst",
            category="pianist",
        ),
    params:
        roll=setting("pianist", "data", keys=PN_ROLL),
        kernel=setting("pianist", "tcav", "kernel"),
        width=setting("pianist", "plot", "width"),
        height=setting("pianist", "plot", "height"),
    script:
        "../scripts/pianist/plot_kernel_heatmaps.py"


rule pianist_write_claims:
    """claims.csv: accuracy above chance, TCAV's planted-truth recovery and LIME masks that
    outline a region (demo), published accuracies (paper), each against its negative control;
    the CAV-size invariant."""
    input:
        unpack(pn_claims_inputs),
    output:
        claims=report("results/{scale}/pianist/claims.csv", caption="../report/pianist/claims.rst", category="pianist"),
    params:
        thresholds=setting("pianist", "claims"),
    script:
        "../scripts/pianist/write_claims.py"


rule pianist_lime:
    """Named target of the original's create_lime_plots.py: every LIME piano-roll figure."""
    input:
        pianist_lime_targets(SCALE),


rule pianist_tcav:
    """Named target of the original's create_harmony_cavs.py: CAVs, sign counts, heatmaps."""
    input:
        pianist_tcav_targets(SCALE),


include: "pianist_published.smk"
include: "pianist_music21.smk"
