# Study interactive on your own classifier and images (docs/your-data/interactive.md):
# the heatmaps of static_exp.py --model_path --img_path.


rule interactive_compute_user_heatmaps:
    """Your ResNet-18 on your images (static_exp.py --model_path --img_path): both checked first, then the heatmaps and their deletion test."""
    input:
        unpack(ia_user_inputs),
    output:
        attributions=f"results/{{scale}}/interactive/heatmaps/{IA_USER}.npz",
        table=f"results/{{scale}}/interactive/heatmaps/{IA_USER}.csv",
    threads: job_threads("interactive", "heatmaps")
    resources:
        **job_resources("interactive", "heatmaps"),
    params:
        heatmaps=setting("interactive", "heatmaps", keys=IA_HEATMAPS),
        user=setting("interactive", "user_data"),
    script:
        "../scripts/interactive/compute_user_heatmaps.py"
