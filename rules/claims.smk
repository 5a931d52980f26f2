# Across studies: the one claims table (the first thing the report shows) and the sweep of
# every study's demo claims over seed offsets (`snakemake robustness`, docs/claims.md).


rule claims_table:
    """Every study's claims and invariants in one table: statistic, threshold, control, verdict."""
    input:
        lambda wildcards: [f"results/{wildcards.scale}/{study}/claims.csv" for study in STUDIES],
    output:
        table=report("results/{scale}/claims.csv", caption="../report/claims/claims.rst", category="0 claims"),
        summary="results/{scale}/report/claims_summary.csv",
        listing="results/{scale}/report/claims_list.csv",
    log:
        "logs/{scale}/claims/claims_table.log",
    benchmark:
        "benchmarks/{scale}/claims/claims_table.tsv"
    localrule: True
    conda:
        "../envs/claims.yaml"
    params:
        studies=STUDIES,
    script:
        "../scripts/claims/claims_table.py"


rule claims_robustness:
    """Every study's demo claims at each of `robustness_offsets` (all seed knobs moved together):
    a pass-rate table and one figure per study."""
    input:
        [f"results/demo/{study}/claims.csv" for study in STUDIES],
    output:
        claims="results/robustness/claims.csv",
        pass_rates=report(
            "results/robustness/pass_rates.csv", caption="../report/claims/pass_rates.rst", category="0 claims"
        ),
        figures=report(
            expand("results/robustness/fig_pass_rates_{study}.png", study=STUDIES),
            caption="../report/claims/fig_pass_rates.rst",
            category="0 claims",
        ),
    log:
        "logs/demo/claims/robustness.log",
    benchmark:
        "benchmarks/demo/claims/robustness.tsv"
    localrule: True
    conda:
        "../envs/claims.yaml"
    # all of --cores (Snakemake caps a rule's threads at them): the runs per offset get them
    threads: 1024
    params:
        studies=STUDIES,
        offsets=config["robustness_offsets"],
        snakefile=workflow.main_snakefile,
        deployment=robustness_deployment(),
    script:
        "../scripts/claims/robustness.py"


rule robustness:
    """`snakemake robustness`: the sweep's pass rates and figures."""
    input:
        rules.claims_robustness.output,
    localrule: True
