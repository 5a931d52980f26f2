"""What `snakemake --profile slurm` resolves to, without a cluster: the name `slurm` is found
from the repository root (a link to profiles/slurm), Snakemake also applies the workflow
profile profiles/default, and its local one-GPU cap must not throttle cluster jobs; job
status comes from squeue; partitions come from partitions.yaml."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.cli import get_profile_dir, parse_args

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
# `--profile slurm` is what the README and the tests type; the folder's own path still works.
SLURM_PROFILES = [["--profile", "slurm"], ["--profile", "profiles/slurm"], ["--workflow-profile", "profiles/slurm"]]
IDS = ["profile", "profile-path", "workflow-profile"]


@pytest.fixture
def parsed(monkeypatch):
    monkeypatch.chdir(ROOT)
    return lambda *argv: parse_args([*argv, "-n"])[1]


def test_the_profile_name_slurm_is_found_from_the_repository_root(monkeypatch):
    """Snakemake searches a profile name in the working directory, then in the user's and
    the site's config folders: the top-level link makes the first one hit, with no file
    written outside the checkout."""
    monkeypatch.chdir(ROOT)
    link = ROOT / "slurm"
    assert link.is_symlink() and os.readlink(link) == "profiles/slurm", "slurm must be a relative link"
    profile_dir, config_file = get_profile_dir("slurm")
    assert profile_dir.resolve() == (ROOT / "profiles/slurm").resolve()
    assert config_file.resolve() == (ROOT / "profiles/slurm/config.yaml").resolve()


def test_local_runs_cap_gpu_jobs_at_one(parsed):
    args = parsed()
    assert args.resources["gpu"].value == 1
    assert args.executor in (None, "local")


@pytest.mark.parametrize("profile", SLURM_PROFILES, ids=IDS)
def test_slurm_profile_resolves_to_the_slurm_executor(parsed, profile):
    args = parsed(*profile)
    assert args.executor == "slurm"
    assert args.slurm_status_command == "squeue"  # sacct without accounting hangs forever
    assert args.slurm_requeue
    # a path relative to the profile folder, resolved by Snakemake whichever way it is named
    partitions = Path(args.slurm_partition_config)
    assert not partitions.is_absolute() or profile[1].startswith("/")
    assert partitions.resolve() == (ROOT / "profiles/slurm/partitions.yaml").resolve()
    defaults = {name: res.value for name, res in args.default_resources.items() if not res.is_evaluable()}
    assert defaults["gpu"] == 0 and defaults["mem_mb"] == 2000 and defaults["runtime"] == 30
    # A GPU cap, where one applies, is per machine: the main Snakemake never tallies it.
    if "gpu" in args.resources:
        assert args.set_resource_scopes.get("gpu") == "local"


def test_slurm_profile_keeps_the_default_workflow_profile(parsed):
    """`--profile slurm` does not replace profiles/default: its keys are still applied."""
    args = parsed("--profile", "slurm")
    assert args.resources["gpu"].value == 1 and args.set_resource_scopes["gpu"] == "local"
    assert "--nv" in args.apptainer_args.split()


def test_snakemake_profile_slurm_dry_run_from_the_repository_root():
    """`snakemake --profile slurm -n`, typed so in the checkout, parses the profile, the
    workflow profile and the whole workflow, and plans the demo DAG (no SLURM needed)."""
    proc = subprocess.run([str(SNAKEMAKE), "--profile", "slurm", "-n"], cwd=ROOT, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600,
                          env=dict(os.environ, XAIREPRO_PROGRESS="0"))
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert "Using profiles slurm and workflow specific profile profiles/default" in proc.stdout, proc.stdout[:2000]
    assert "This was a dry-run" in proc.stdout or "Nothing to be done" in proc.stdout, proc.stdout[-3000:]


def test_partitions_are_named_in_one_place():
    partitions = yaml.safe_load((ROOT / "profiles/slurm/partitions.yaml").read_text())["partitions"]
    assert partitions["gpu"]["max_gpu"] >= 1 and partitions["cpu"]["max_gpu"] == 0
    for path in [*(ROOT / "profiles").rglob("config.yaml"), *(ROOT / "rules").glob("*.smk")]:
        assert "slurm_partition" not in path.read_text(), f"{path} names a partition"
