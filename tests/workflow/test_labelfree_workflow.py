"""The labelfree demo chains inside the demo DAG: every figure, table and claim."""

import pytest
from matplotlib import image

from xairepro.common.io import read_csv

from .conftest import jobs_of, snakemake

pytestmark = pytest.mark.workflow
OUT = "results/demo/labelfree"


@pytest.mark.parametrize("dataset", ["mnist", "ecg"])
def test_consistency_features_table_and_figure(demo_run, dataset):
    workdir, _ = demo_run
    table = read_csv(workdir / OUT / f"consistency_features_{dataset}.csv",
                     required=("seed", "method", "fraction", "representation_shift"))
    assert set(table.method) == {"integrated_gradients", "gradient_shap", "saliency", "random"}
    assert (table.loc[table.fraction == 0, "representation_shift"] == 0).all()
    # issue 5: at 10-20 % masked, label-free IG and Saliency move the representation more than random
    mean = table.groupby(["method", "fraction"]).representation_shift.mean()
    for fraction in (0.1, 0.2):
        for method in ("integrated_gradients", "saliency"):
            assert mean[method, fraction] > mean["random", fraction], (dataset, method, fraction)
    pixels = image.imread(workdir / OUT / f"fig_feature_consistency_{dataset}.png")
    assert pixels[..., :3].std() > 0.05


@pytest.mark.parametrize("name", ["fig_example_consistency_mnist", "fig_disentanglement_mnist",
                                  "fig_disentanglement_dsprites", "fig_encoder_vs_full_mnist"])
def test_every_labelfree_figure_shows_something(demo_run, name):
    workdir, _ = demo_run
    assert image.imread(workdir / OUT / f"{name}.png")[..., :3].std() > 0.05


def test_dknn_most_important_examples_share_the_label_more_than_least_important(demo_run):
    workdir, _ = demo_run
    rates = read_csv(workdir / OUT / "consistency_examples_mnist.csv")
    dknn = rates[rates.explainer == "dknn"].groupby(["examples", "fraction"]).similarity_rate.mean()
    small = rates.fraction.min()
    assert dknn["most important", small] > dknn["least important", small] + 0.2


def test_every_labelfree_claim_holds_at_demo_scale(demo_run):
    workdir, _ = demo_run
    claims = read_csv(workdir / OUT / "claims.csv")
    # claim 1.1 on MNIST and ECG, 1.2 (5 explainers x 2), encoder vs full, 2.1/2.2, 3 (2 data sets x 2 losses x 2)
    assert len(claims) == 2 * 4 + 2 * 5 + 3 + 4 + 8 and claims["pass"].all(), claims.to_string()


def test_labelfree_plot_knob_reruns_only_its_plot(demo_run):
    workdir, _ = demo_run
    out = snakemake(workdir, "-n", "--config", 'labelfree={"plot": {"width": 5}}').stdout
    jobs = set(jobs_of(out)) - {"all"}
    # the knob styles every labelfree figure: all their plot rules re-run, nothing else does
    assert "labelfree_plot_consistency_features" in jobs, out[-3000:]
    assert all(job.startswith("labelfree_plot_") for job in jobs), jobs
