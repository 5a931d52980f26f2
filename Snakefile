# xai-repro: one workflow that regenerates the figures and tables of the studies registered
# in config/studies.yaml. `snakemake --cores 2` builds the demo scale; `--config scale=paper`
# the original data and hyper-parameters. Any figure path is a valid target, and so is each
# study's name (`snakemake pianist`).
from xairepro.common.registry import study_names

STUDIES = study_names(workflow.basedir)

# Config files are read from this folder, so `--directory` (a run elsewhere, as
# `snakemake robustness` does per seed offset) reads the same values.
for study in STUDIES:

    configfile: f"{workflow.basedir}/config/{study}.yaml"


configfile: f"{workflow.basedir}/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"


for study in STUDIES:

    include: f"rules/{study}.smk"

    finish_rules(study)

    rule:
        name:
            study
        input:
            study_targets(study, SCALE),
            deviation_targets(study, SCALE),
        localrule: True


include: "rules/claims.smk"


rule all:
    default_target: True
    input:
        [path for study in STUDIES for path in study_targets(study, SCALE)],
        [path for study in STUDIES for path in deviation_targets(study, SCALE)],
        f"results/{SCALE}/claims.csv",
