# xai-repro: one workflow that regenerates the figures and tables of five explainability
# studies. `snakemake --cores 2` builds the demo scale; `--config scale=paper` the original
# data and hyper-parameters. Any figure path is a valid target.

configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/lossgrad_functions.smk"
include: "rules/labelfree_functions.smk"
include: "rules/pianist_functions.smk"
include: "rules/esc50_functions.smk"
include: "rules/interactive_functions.smk"


wildcard_constraints:
    scale="demo|paper",
    seed=r"\d+",
    variant="softmax10|softmax2|sigmoid2",
    model="resnet|disentangle",


include: "rules/lossgrad.smk"
include: "rules/labelfree.smk"
include: "rules/pianist.smk"
include: "rules/esc50.smk"
include: "rules/interactive.smk"


rule all:
    default_target: True
    input:
        all_targets,
