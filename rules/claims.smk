# Across studies: the one claims table (the first thing the report shows), the sweep of
# every study's demo claims over seed offsets (`snakemake robustness`, docs/claims.md), and
# each study's departures from its original as the report shows them (docs/deviations/<study>.csv,
# the one source; xairepro/common/deviations.py; the target function deviation_targets is in
# rules/common.smk).


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


rule claims_deviations:
    """A study's deviations at one scale: the original (file:line), what we do and why, the
    knob that restores the original, its value in this run's config and whether the departure
    is in effect."""
    input:
        table=lambda wildcards: str(deviations.table_path(workflow.basedir, wildcards.study)),
    output:
        table=report(
            "results/{scale}/{study}/deviations.csv",
            caption="../report/claims/deviations.rst",
            category="{study}",
            subcategory="deviations",
        ),
    log:
        "logs/{scale}/claims/deviations/{study}.log",
    benchmark:
        "benchmarks/{scale}/claims/deviations/{study}.tsv"
    wildcard_constraints:
        study="|".join(STUDIES),
    localrule: True
    conda:
        "../envs/claims.yaml"
    script:
        "../scripts/claims/deviations.py"
