# Shared by every study: the config accessor, the per-run expander, job resources, and the
# conventions that give every rule what follows from its name. A rule named
# `<study>_<step>` gets
#   log:        logs/<scale>/<study>/<step>[/<wildcard values joined by _>].log
#   benchmark:  benchmarks/<scale>/<study>/<step>[/...].tsv
#   conda:      envs/<study>.yaml        container: <image_dir>/<study>.sif
# from finish_rules(), so a rule file states only inputs, outputs, params, resources and
# its script, scripts/<study>/<step>.py (checked by finish_rules; the path stays written in
# the rule: Snakemake's generated code calls a function named `script`, which no helper may
# shadow).
import re
from pathlib import Path

from snakemake import __version__ as SNAKEMAKE_VERSION
from snakemake.logging import logger
from snakemake.scheduling.job_scheduler import JobScheduler

from xairepro.common import deviations
from xairepro.common.config import SCALES, load_schema, shift_seeds, validate_config
from xairepro.common.errors import ConfigError
from xairepro.common.scheduler import keep_one_wakeup_pending

# Snakemake's scheduling loop multiplies its wake-up timers with every finished job (a
# quarter of a core busy late in a long run); keep one pending (xairepro/common/scheduler.py).
if not keep_one_wakeup_pending(JobScheduler, SNAKEMAKE_VERSION):
    logger.warning(
        f"Snakemake {SNAKEMAKE_VERSION}: its scheduler's wake-up timers are not capped "
        "(xairepro/common/scheduler.py was read against another version)"
    )

SCHEMA = load_schema(workflow.basedir)
validate_config(config, SCHEMA, source="config")
shift_seeds(config)
SCALE = config["scale"]


wildcard_constraints:
    scale="|".join(SCALES),
    seed=r"\d+",


def _part_block(study, part, scale):
    try:
        block = config[study][part]
    except KeyError:
        raise ConfigError(f"config: no part '{study}.{part}' (see config/{study}.schema.yaml)") from None
    return block[scale] if set(block) == set(SCALES) else block


def setting(study, part, key=None, *, keys=None, scale=None):
    """The one config accessor: `<study>.<part>` at a scale, one `key` of it, or a dict of `keys`.

    With `scale` given, the value itself (for targets and parse-time choices). Without it, an
    input function of the job's wildcards, reading `{scale}` and formatting `part` with them
    (`setting("pianist", "{model}")`), for params and resources. A part without demo/paper
    blocks (plot knobs) is the same at both scales. A missing key stops with its full name.
    """

    def value(scale, wildcards):
        name = part.format(**wildcards)
        block = _part_block(study, name, scale)
        wanted = [key] if key is not None else keys
        for k in wanted or ():
            if k not in block:
                raise ConfigError(f"config: '{study}.{name}.{scale}' has no key '{k}'")
        if key is not None:
            return block[key]
        return {k: block[k] for k in keys} if keys is not None else block

    if scale is not None:
        return value(scale, {})
    return lambda wildcards: value(wildcards.scale, dict(wildcards.items()))


def section(study):
    """A study's whole config section, as this run resolved it (seeds already moved by
    seed_offset): the config of a nested run of that study (pianist_run_music21)."""
    return config[study]


def per_run(pattern, runs):
    """The one per-run expander: an input function giving `pattern` once per run of the job,
    where `runs(wildcards)` lists each run's wildcard values as a dict (seeds, variants, ...);
    the job's own wildcards fill the rest of the pattern."""

    def inputs(wildcards):
        return [pattern.format(**{**dict(wildcards.items()), **run}) for run in runs(wildcards)]

    return inputs


def files_under(pattern):
    """The files under a directory() input that changed after the rule that wrote it, as an
    input function.

    Snakemake dates a directory by its own mtime, which editing a file inside leaves alone;
    a rule that reads the files one by one declares these beside the directory, so an
    edited clip or recording reruns what was computed from it. Only files newer than the
    directory's `.snakemake_timestamp` (set when its producer finished) are listed; a listed
    file must still exist when the reader runs, and a producing rule that runs again may
    write a different set of files. A directory no rule wrote (no timestamp) lists all."""

    def inputs(wildcards):
        top = Path(pattern.format(**dict(wildcards.items())))
        if not top.is_dir():
            return []
        stamp = top / ".snakemake_timestamp"
        since = stamp.stat().st_mtime_ns if stamp.exists() else -1
        files = (p for p in top.rglob("*") if p.is_file() and p != stamp)
        return sorted(str(p) for p in files if p.stat().st_mtime_ns > since)

    return inputs


def job_threads(study, part):
    """Threads of a training or attribution job: `<study>.<part>.resources.threads`."""
    return lambda wildcards: setting(study, part, "resources")(wildcards)["threads"]


def job_resources(study, part):
    """`mem_mb`, `runtime` and `gpu` of a training or attribution job, from
    `<study>.<part>.resources` at the job's scale; use as `resources: **job_resources(...)`.
    The slurm profile turns them into --mem, -t and --gpus."""
    return {
        key: (lambda wildcards, key=key: setting(study, part, "resources")(wildcards)[key])
        for key in ("mem_mb", "runtime", "gpu")
    }


def _log_stem(definition, study, step):
    """logs/benchmarks stem of a rule: the scale (its wildcard, or the one its outputs are
    written under), study, step and its other output wildcards."""
    if "scale" in definition.wildcard_names:
        scale = "{scale}"
    else:
        match = re.match(r"^(?:data|results)/(demo|paper)/", str(definition.output[0]))
        if not match:
            raise WorkflowError(f"{definition.name}: its outputs have neither {{scale}} nor a data/<scale>/ path")
        scale = match.group(1)
    # Output order: definition.wildcard_names is a set, so read the names off the first output.
    names = [n for n in re.findall(r"{(\w+)(?:,[^}]*)?}", str(definition.output[0])) if n != "scale"]
    names += sorted(set(definition.wildcard_names) - set(names) - {"scale"})
    parts = [scale, study, step] + (["_".join(f"{{{n}}}" for n in names)] if names else [])
    return str(Path(*parts))


def finish_rules(study):
    """Give every rule of `study` that runs something its log, benchmark, conda env and
    container, derived from its name (see the head of this file)."""
    for definition in list(workflow.rules):
        if not definition.name.startswith(f"{study}_") or definition.norun:
            continue
        step = definition.name[len(study) + 1 :]
        if definition.script is not None and definition.script != f"../scripts/{study}/{step}.py":
            raise WorkflowError(
                f"{definition.name} runs {definition.script}, but the script of a rule must be "
                f"../scripts/{study}/{step}.py, named after the rule"
            )
        stem = _log_stem(definition, study, step)
        if not definition.log:
            definition.log_modifier = workflow.modifier.path_modifier
            definition.set_log(f"logs/{stem}.log")
        if definition.benchmark is None:
            definition.benchmark_modifier = workflow.modifier.path_modifier
            definition.benchmark = f"benchmarks/{stem}.tsv"
        definition.conda_env = definition.conda_env or f"../envs/{study}.yaml"
        definition.container_img = definition.container_img or f"{config['image_dir']}/{study}.sif"


def study_targets(study, scale):
    """Every output of `study` at `scale`: its rules file defines `<study>_targets(scale)`."""
    targets = globals().get(f"{study}_targets")
    if targets is None:
        raise WorkflowError(f"rules/{study}.smk must define {study}_targets(scale) (docs/adding-a-study.md)")
    return targets(scale)


def deviation_targets(study, scale):
    """The study's deviations table at `scale`, when it has a docs/deviations/<study>.csv."""
    if not deviations.table_path(workflow.basedir, study).exists():
        return []
    return [f"results/{scale}/{study}/deviations.csv"]


def robustness_deployment():
    """The outer run's --sdm and its conda/apptainer prefixes, for the runs per seed offset."""
    settings = workflow.deployment_settings
    if settings is None:  # the workflow is only being read (mock_snakemake, --lint)
        return []
    args = []
    methods = sorted(method.name.lower() for method in settings.deployment_method)
    if methods:
        args += ["--sdm", *methods]
    prefixes = {"--conda-prefix": settings.conda_prefix, "--apptainer-prefix": settings.apptainer_prefix}
    for flag, prefix in prefixes.items():
        if prefix and methods:
            args += [flag, str(Path(prefix).resolve())]
    return args
