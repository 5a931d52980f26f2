# Study pianist, weights: published (docs/published-weights.md): the original's checkpoints
# from the Zenodo archive (or a folder the user names), loaded key for key into our models and
# evaluated like trained ones; the LIME and TCAV rules of pianist.smk read them (pn_model).


rule pianist_download_published:
    """The original's published checkpoint of one model (weights: published): extracted from
    the verified Zenodo archive, or copied from the folder named in published.paper.dir;
    checked against its pinned sha256 when one is set (local rule)."""
    input:
        unpack(pn_published_source),
    output:
        checkpoint="data/paper/pianist/published/{model}.pth",
    params:
        published=pn_published,
    script:
        "../scripts/pianist/download_published.py"


rule pianist_evaluate_published:
    """Load a published checkpoint into our model class key for key (strict; a misfit names the
    file and key), write it as our weights file and evaluate it as a trained model: clip and
    track accuracy with the randomised control, confusion counts."""
    input:
        data=rules.pianist_prepare_clips.output.data,
        checkpoint=rules.pianist_download_published.output.checkpoint,
    output:
        model="results/{scale}/pianist/published/{model}.pt",
        metrics="results/{scale}/pianist/published/{model}.json",
        accuracy="results/{scale}/pianist/published/accuracy_{model}.csv",
        confusion="results/{scale}/pianist/published/confusion_{model}.csv",
    threads: job_threads("pianist", "{model}")
    resources:
        **job_resources("pianist", "{model}"),
    params:
        roll=setting("pianist", "data", keys=PN_ROLL),
        evaluation=pn_evaluation,
    script:
        "../scripts/pianist/evaluate_published.py"
