"""What `snakemake --profile profiles/slurm` resolves to, without a cluster: Snakemake also
applies the workflow profile profiles/default, and its local one-GPU cap must not throttle
cluster jobs; job status comes from squeue; partitions come from partitions.yaml."""

from pathlib import Path

import pytest
import yaml
from snakemake.cli import parse_args

ROOT = Path(__file__).resolve().parents[2]
SLURM_PROFILES = [["--profile", "profiles/slurm"], ["--workflow-profile", "profiles/slurm"]]
IDS = ["profile", "workflow-profile"]


@pytest.fixture
def parsed(monkeypatch):
    monkeypatch.chdir(ROOT)
    return lambda *argv: parse_args([*argv, "-n"])[1]


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
    assert Path(args.slurm_partition_config) == Path("profiles/slurm/partitions.yaml")
    defaults = {name: res.value for name, res in args.default_resources.items() if not res.is_evaluable()}
    assert defaults["gpu"] == 0 and defaults["mem_mb"] == 2000 and defaults["runtime"] == 30
    # A GPU cap, where one applies, is per machine: the main Snakemake never tallies it.
    if "gpu" in args.resources:
        assert args.set_resource_scopes.get("gpu") == "local"


def test_partitions_are_named_in_one_place():
    partitions = yaml.safe_load((ROOT / "profiles/slurm/partitions.yaml").read_text())["partitions"]
    assert partitions["gpu"]["max_gpu"] >= 1 and partitions["cpu"]["max_gpu"] == 0
    for path in [*(ROOT / "profiles").rglob("config.yaml"), *(ROOT / "rules").glob("*.smk")]:
        assert "slurm_partition" not in path.read_text(), f"{path} names a partition"
