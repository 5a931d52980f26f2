"""Dry runs: the DAG's shape, single targets, the paper scale, config errors, lint."""

import pytest

from .conftest import jobs_of, snakemake

pytestmark = pytest.mark.workflow


def test_one_figure_builds_only_its_chain(fresh_workflow):
    out = snakemake(fresh_workflow, "-n", "results/demo/lossgrad/fig_mnist_roar.png").stdout
    jobs = jobs_of(out)
    assert jobs == {
        "lossgrad_generate_mnist": 1,
        "lossgrad_train_classifier": 9,
        "lossgrad_compute_gradients": 9,
        "lossgrad_compute_occlusion": 9,
        "lossgrad_aggregate_occlusion": 1,
        "lossgrad_plot_roar": 1,
    }


def test_paper_scale_dag_builds(fresh_workflow):
    jobs = jobs_of(snakemake(fresh_workflow, "-n", "--config", "scale=paper").stdout)
    assert jobs["lossgrad_download_mnist"] == 4 and jobs["lossgrad_prepare_mnist"] == 1
    assert jobs["lossgrad_train_classifier"] == 15  # 3 heads x 5 models, as in the paper
    assert "lossgrad_generate_mnist" not in jobs
    assert jobs["lossgrad_download_jamendo"] == 1 and jobs["lossgrad_extract_jamendo"] == 1
    # five singing-voice models, each occluded by its own gradient, as the original's run-all
    assert jobs["lossgrad_train_svd"] == 5 and jobs["lossgrad_compute_svd_occlusion"] == 5
    assert jobs["lossgrad_aggregate_svd"] == 1 and "lossgrad_generate_jamendo" not in jobs


def test_svd_figure_builds_only_its_chain(fresh_workflow):
    jobs = jobs_of(snakemake(fresh_workflow, "-n", "results/demo/lossgrad/fig_svd_roar.png").stdout)
    assert jobs == {
        "lossgrad_generate_jamendo": 1,
        "lossgrad_compute_spectrograms": 1,
        "lossgrad_train_svd": 1,
        "lossgrad_evaluate_svd": 1,
        "lossgrad_compute_svd_gradients": 1,
        "lossgrad_compute_svd_occlusion": 1,
        "lossgrad_aggregate_svd": 1,
        "lossgrad_plot_svd_roar": 1,
    }


def test_paper_rules_ask_for_a_gpu(fresh_workflow):
    out = snakemake(fresh_workflow, "-n", "results/paper/lossgrad/models/sigmoid2/seed1.pt").stdout
    block = out[out.index("rule lossgrad_train_classifier"):]
    assert "gpu=1" in block.split("\n\n")[0]


def test_a_figure_of_the_other_scale_is_a_valid_target(fresh_workflow):
    jobs = jobs_of(snakemake(fresh_workflow, "-n", "results/paper/lossgrad/fig_mnist_roar.png").stdout)
    assert jobs["lossgrad_train_classifier"] == 15


@pytest.mark.parametrize("override,message", [
    ("scale=huge", "'scale' = 'huge' is not one of"),
    ("colour=red", "unknown key(s) ['colour']"),
    ('lossgrad={"mnist": {"demo": {"epochs": -1}}}', "'lossgrad.mnist.demo.epochs' = -1"),
], ids=["bad-scale", "unknown-key", "bad-value"])
def test_bad_config_stops_before_anything_runs(fresh_workflow, override, message):
    proc = snakemake(fresh_workflow, "-n", "--config", override, check=False)
    assert proc.returncode != 0
    assert message in proc.stdout, proc.stdout[-2000:]


def test_lint_is_clean(fresh_workflow):
    out = snakemake(fresh_workflow, "--lint").stdout
    assert "Congratulations, your workflow is in a good condition!" in out, out[-3000:]
