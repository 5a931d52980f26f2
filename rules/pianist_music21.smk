# Study pianist on real music (issue 23): the music21 corpus's composers as performers, built
# into the user-data layout and run as a study of its own (docs/your-data/pianist.md;
# `snakemake pianist_music21`, `make music21`).


rule pianist_build_music21:
    """Real music, no network: the music21 corpus's composers as performers, each piece a
    track of clips, split by piece, in the user-data layout (docs/your-data/pianist.md)."""
    output:
        folder=directory("data/demo/pianist_music21"),
    params:
        corpus=setting("pianist", "music21", scale="demo"),
        clips=setting("pianist", "data", keys=("clip_seconds", "pad_seconds"), scale="demo"),
    script:
        "../scripts/pianist/build_music21.py"


rule pianist_run_music21:
    """The whole pianist study on the music21 folder, through pianist.user_data, in a run
    directory of its own (the synthetic demo's results untouched); its claims and figures
    copied beside it."""
    input:
        folder=rules.pianist_build_music21.output.folder,
    output:
        run=directory("results/demo/pianist_music21/run"),
        claims=report(
            "results/demo/pianist_music21/claims.csv",
            caption="../report/pianist/music21_claims.rst",
            category="pianist",
            subcategory="music21",
        ),
        figures=report(
            directory("results/demo/pianist_music21/figures"),
            patterns=["{name}.png"],
            caption="../report/pianist/music21_figures.rst",
            category="pianist",
            subcategory="music21",
        ),
    localrule: True
    # all of --cores (Snakemake caps a rule's threads at them): the inner run gets them
    threads: 1024
    params:
        snakefile=workflow.main_snakefile,
        deployment=robustness_deployment(),
        # the whole pianist section (seeds already moved by seed_offset): the inner run's config
        study=section("pianist"),
    script:
        "../scripts/pianist/run_music21.py"


rule pianist_music21:
    """`snakemake pianist_music21`: the music21 data set's claims and figures."""
    input:
        rules.pianist_run_music21.output.claims,
        rules.pianist_run_music21.output.figures,
    localrule: True
