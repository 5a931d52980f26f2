"""Run a workflow script by hand: a stand-in for the ``snakemake`` object of one rule.

Every script in ``scripts/`` starts with::

    smk = snakemake_or_mock(globals(), "lossgrad_train_classifier", scale="demo",
                            variant="sigmoid2", seed="0")

Under Snakemake, ``snakemake`` is already defined and is returned as is. Run as
``python scripts/lossgrad/train_classifier.py``, the workflow is parsed (config validation
included) and the job of that rule with those wildcards is built, so the script sees the
same input, output, params, threads, resources and log as in a real run.

This leans on Snakemake internals (``Workflow``, ``DAG``, ``Job``): it is written for the
pinned Snakemake and tested (tests/common/test_smk.py). It is the only library module that
touches snakemake, and only when called.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def mock_snakemake(
    rulename: str,
    root: str | Path = ROOT,
    config: Mapping[str, Any] | None = None,
    configfiles: Iterable[str | Path] = (),
    **wildcards: str,
):
    """Build the ``snakemake`` object that ``rulename`` would get for these ``wildcards``.

    Paths are made absolute so that the script can run from any folder; the folders of
    the outputs and logs are created.
    """
    import snakemake.api  # noqa: F401  (initialises snakemake's modules in the right order)
    from snakemake.dag import DAG
    from snakemake.jobs import Job
    from snakemake.logging import LoggerManager, logger
    from snakemake.script import Snakemake
    from snakemake.settings.types import (
        ConfigSettings,
        DAGSettings,
        OutputSettings,
        ResourceSettings,
        StorageSettings,
        WorkflowSettings,
    )
    from snakemake.workflow import Workflow

    root = Path(root).resolve()
    previous = os.getcwd()
    os.chdir(root)
    try:
        workflow = Workflow(
            config_settings=ConfigSettings(
                configfiles=[Path(f).resolve() for f in configfiles], config=dict(config or {})
            ),
            resource_settings=ResourceSettings(),
            workflow_settings=WorkflowSettings(),
            logger_manager=LoggerManager(logger, OutputSettings()),
            storage_settings=StorageSettings(),
            dag_settings=DAGSettings(rerun_triggers=[]),
            overwrite_workdir=root,
        )
        workflow.include(root / "Snakefile", overwrite_default_target=True)
        workflow.global_resources = {}
        rule = workflow.get_rule(rulename)
        dag = DAG(workflow, rules=[rule])
        job = Job(rule, dag, wildcards_dict=dict(wildcards))
        for io in (job.input, job.output, job.log):
            for i, path in enumerate(io):
                io[i] = os.path.abspath(path)
        for path in [*job.output, *job.log]:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return Snakemake(
            job.input, job.output, job.params, job.wildcards, job.threads, job.resources,
            job.log, workflow.config, rule.name, None,
        )
    finally:
        os.chdir(previous)


def snakemake_or_mock(namespace: Mapping[str, Any], rulename: str, **wildcards: str):
    """``namespace["snakemake"]`` under Snakemake, else :func:`mock_snakemake` of the rule.

    A smoke run's batch cap (config key ``smoke``) is applied here, the one call every
    workflow script makes before it does anything else.
    """
    smk = namespace["snakemake"] if "snakemake" in namespace else mock_snakemake(rulename, **wildcards)
    smoke = getattr(smk, "config", {}).get("smoke")
    if smoke:
        from xairepro.common.training import set_batch_cap

        set_batch_cap(smoke["max_batches_per_epoch"])
    return smk


#: What a run of the workflow needs from the checkout (results and data stay behind).
#: docs/deviations holds the deviations tables the report's rule reads.
WORKFLOW_FILES = ("Snakefile", "config.yaml", "config", "rules", "slurm", "scripts", "report", "envs", "containers",
                  "profiles", "docs/deviations")


def copy_workflow(root: str | Path, dest: str | Path) -> Path:
    """A fresh copy of the workflow in ``root`` at ``dest``, with nothing built (for tests
    and benchmarks that must start from scratch)."""
    import shutil

    root, dest = Path(root), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = root / name
        if src.is_symlink():
            os.symlink(os.readlink(src), dest / name)
        elif src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("*.sif", "__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest
