"""The demo lossgrad chain through `snakemake --profile slurm` on a real SLURM
cluster (brought up by tests/slurm/run.sh: `make test-slurm`): every job of a GPU rule is
submitted with a GPU request to the GPU partition, the local one-GPU cap of
profiles/default does not serialise them, the numbers equal a local run's, and a training
job killed mid-way (a stand-in for preemption) is resubmitted and resumes from its
checkpoint.

The chain is reduced to one head and two seeds, and its training/attribution rules ask for
one GPU and two threads each (demo scale: no GPU, one thread), so that `--cpus-per-gpu`
shows it follows `threads`. The GPU is a fake GRES: the jobs run on the CPU, where the
same thread count gives the same numbers."""

from __future__ import annotations

import json
import os
import re
import subprocess

from pathlib import Path

import pandas as pd
import pytest

from workflow.conftest import ROOT, snakemake
from workflow.conftest import copy_workflow as copy_checkout

pytestmark = pytest.mark.slurm

TARGET = "results/demo/lossgrad/fig_mnist_roar.png"
MODEL = "results/demo/lossgrad/models/sigmoid2/seed0.json"
# Poll sooner than the profile's 20 s: the test cluster answers at once.
FAST = ("--slurm-init-seconds-before-status-checks", "5", "--latency-wait", "5")
GPU_RULES = {"lossgrad_train_classifier", "lossgrad_compute_gradients", "lossgrad_compute_occlusion"}
CPU_RULES = {"lossgrad_generate_mnist", "lossgrad_aggregate_occlusion", "lossgrad_plot_roar"}
SEEDS = (0, 1)
CONFIG = (
    'lossgrad={"mnist": {"demo": {"seeds": [0, 1], '
    '"classifiers": [{"classifier_type": "sigmoid", "num_classes": 2}], '
    '"resources": {"gpu": 1, "threads": 2, "mem_mb": 1000, "runtime": 10}}}}'
)
PROFILE = ("--profile", "slurm")  # as typed from the repository root (a link to profiles/slurm)
SUBMITTED = re.compile(r"^Job (\d+) has been submitted with SLURM jobid (\d+) \(log: .*/rule_(\w+)/")
FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)")


def copy_workflow(dest: Path) -> Path:
    """A fresh copy of the workflow with the top-level `slurm` profile link, as in the checkout."""
    workdir = copy_checkout(dest)
    link = workdir / "slurm"
    if not link.exists():
        link.symlink_to(os.readlink(ROOT / "slurm"))
    return workdir


@pytest.fixture(scope="module")
def cluster() -> str:
    """The state dir of the running test cluster; skips outside `make test-slurm`."""
    state = os.environ.get("XAIREPRO_SLURM_STATE")
    if not state:
        pytest.skip("needs the test cluster: run `make test-slurm` (tests/slurm/run.sh, as root)")
    proc = subprocess.run(["sinfo", "-h", "-o", "%P %t %G"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and "idle" in proc.stdout, f"test cluster not up: {proc.stdout}{proc.stderr}"
    return state


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory):
    """(workdir, output) of the reduced chain run through the SLURM profile."""
    workdir = copy_workflow(tmp_path_factory.mktemp("slurm"))
    proc = snakemake(workdir, TARGET, *PROFILE, *FAST, "--config", CONFIG, timeout=1200)
    return workdir, proc.stdout


@pytest.fixture(scope="module")
def killed_run(cluster, tmp_path_factory):
    """(workdir, output) of one model trained through the SLURM profile while the training
    process SIGKILLs itself after epoch 3 (the library's test hook): the job fails, and the
    profile's `retries: 1` submits it again."""
    workdir = copy_workflow(tmp_path_factory.mktemp("killed"))
    proc = snakemake(workdir, MODEL, *PROFILE, *FAST, "--config", CONFIG,
                     env={"XAIREPRO_FAULT_AFTER_EPOCH": "3"}, timeout=1200)
    return workdir, proc.stdout


@pytest.fixture(scope="module")
def local_run(cluster, tmp_path_factory):
    """The workdir of the same chain run locally."""
    workdir = copy_workflow(tmp_path_factory.mktemp("local"))
    snakemake(workdir, "--cores", "2", TARGET, "--config", CONFIG)
    return workdir


def submissions(output: str) -> list[tuple[int, int, str]]:
    """(snakemake job id, SLURM job id, rule) of every job the run submitted."""
    return [(int(m[1]), int(m[2]), m[3]) for m in map(SUBMITTED.match, output.splitlines()) if m]


def slurm_job(job_id: int) -> dict[str, str]:
    """`scontrol show job` of one job as a dict (finished jobs stay for MinJobAge)."""
    out = subprocess.run(["scontrol", "show", "job", "-o", str(job_id)], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    return dict(field.split("=", 1) for field in out.split() if "=" in field)


def test_every_job_of_a_gpu_rule_asked_for_a_gpu(slurm_run):
    _, output = slurm_run
    jobs = submissions(output)
    rules = [rule for _, _, rule in jobs]
    assert {rule: rules.count(rule) for rule in GPU_RULES} == {rule: len(SEEDS) for rule in GPU_RULES}
    assert set(rules) == GPU_RULES | CPU_RULES
    for _, job_id, rule in jobs:
        job = slurm_job(job_id)
        if rule in GPU_RULES:
            # gpu=1 -> --gpus=1; threads=2 -> --cpus-per-gpu=2; mem_mb -> --mem; runtime -> -t
            assert job.get("TresPerJob") == "gres:gpu:1", (rule, job)
            assert job.get("CpusPerTres") == "gres:gpu:2" and job["NumCPUs"] == "2", (rule, job)
            assert job["Partition"] == "gpu", (rule, job)
            assert "mem=1000M" in job["TRES"] and job["TimeLimit"] == "00:10:00", (rule, job)
        else:
            assert "gpu" not in job.get("TresPerJob", ""), (rule, job)
            assert job["Partition"] == "cpu", (rule, job)
            assert "mem=2000M" in job["TRES"] and job["TimeLimit"] == "00:30:00", (rule, job)
        assert job["JobState"] == "COMPLETED", (rule, job)


def test_local_gpu_cap_does_not_serialise_cluster_jobs(slurm_run):
    """profiles/default caps `gpu` at 1, scoped per machine: on the cluster both training
    jobs are submitted before either finishes (the scheduler does the queueing)."""
    _, output = slurm_run
    lines = output.splitlines()
    first_done = next(i for i, line in enumerate(lines)
                      if (m := FINISHED.match(line)) and m[2] == "lossgrad_train_classifier")
    submitted_before = [rule for rule in (m[3] for m in map(SUBMITTED.match, lines[:first_done]) if m)
                        if rule == "lossgrad_train_classifier"]
    assert len(submitted_before) == len(SEEDS), "\n".join(lines[:first_done])


@pytest.mark.parametrize("table", ["mnist_roar.csv", "mnist_models.csv", "mnist_sign_table.csv"])
def test_results_equal_a_local_run(slurm_run, local_run, table):
    workdir, _ = slurm_run
    cluster = pd.read_csv(workdir / "results/demo/lossgrad" / table, comment="#")
    local = pd.read_csv(local_run / "results/demo/lossgrad" / table, comment="#")
    assert len(cluster) > 0
    pd.testing.assert_frame_equal(cluster, local, rtol=1e-6, atol=1e-9)


def test_figure_was_built_on_the_cluster(slurm_run):
    workdir, _ = slurm_run
    assert (workdir / TARGET).stat().st_size > 10_000


def test_killed_training_job_is_resubmitted_and_resumes_from_its_checkpoint(killed_run, local_run):
    workdir, output = killed_run
    trainings = [job_id for _, job_id, rule in submissions(output) if rule == "lossgrad_train_classifier"]
    assert len(trainings) == 2, output[-4000:]
    assert [slurm_job(job_id)["JobState"] for job_id in trainings] == ["FAILED", "COMPLETED"]
    # the failed attempt is reported with the rule's log and the SLURM job's own log
    failure = output[output.index("Error in rule lossgrad_train_classifier"):]
    assert "logs/demo/lossgrad/train_classifier/sigmoid2_0.log" in failure, failure[:3000]
    assert "slurm_logs" in failure, failure[:3000]
    resumed = json.loads((workdir / MODEL).read_text())
    reference = json.loads((local_run / MODEL).read_text())
    assert resumed["resumed_from_epoch"] == 3
    assert len(resumed["history"]) == len(reference["history"])
    for got, want in zip(resumed["history"], reference["history"]):
        assert got == pytest.approx(want, rel=1e-6)
