# Study esc50 on your own sounds (docs/your-data/esc50.md): the one rule that reads them.
# With esc50.user_data.path set, ESC50_META and ESC50_AUDIO (rules/esc50_functions.smk) point
# at its outputs, so every downstream rule reads your clips unchanged.


rule esc50_import_user_data:
    """Your own ESC-50-format folder (user_data.path): every row and clip checked before any training, then copied in."""
    input:
        unpack(esc50_user_files),
    output:
        meta="data/{scale}/esc50_user/meta/esc50.csv",
        audio=directory("data/{scale}/esc50_user/audio"),
    params:
        path=setting("esc50", "user_data", "path"),
        folds=esc50_folds,
    script:
        "../scripts/esc50/import_user_data.py"
