"""The labelfree demo chain (claim 1.1 on MNIST) inside the demo DAG."""

import pytest
from matplotlib import image

from xairepro.common.io import read_csv

from .conftest import jobs_of, snakemake

pytestmark = pytest.mark.workflow
OUT = "results/demo/labelfree"


def test_consistency_features_table_and_figure(demo_run):
    workdir, _ = demo_run
    table = read_csv(workdir / OUT / "consistency_features_mnist.csv",
                     required=("seed", "method", "fraction", "representation_shift"))
    assert set(table.method) == {"integrated_gradients", "gradient_shap", "saliency", "random"}
    assert (table.loc[table.fraction == 0, "representation_shift"] == 0).all()
    pixels = image.imread(workdir / OUT / "fig_consistency_features_mnist.png")
    assert pixels[..., :3].std() > 0.05


def test_every_labelfree_claim_holds_at_demo_scale(demo_run):
    workdir, _ = demo_run
    claims = read_csv(workdir / OUT / "claims.csv")
    assert len(claims) == 4 + 2 * 5 + 3 + 4 + 8 and claims["pass"].all(), claims.to_string()


def test_labelfree_plot_knob_reruns_only_its_plot(demo_run):
    workdir, _ = demo_run
    out = snakemake(workdir, "-n", "--config", 'labelfree={"plot": {"width": 5}}').stdout
    jobs = set(jobs_of(out)) - {"all"}
    # the knob styles every labelfree figure: all their plot rules re-run, nothing else does
    assert "labelfree_plot_consistency_features" in jobs, out[-3000:]
    assert all(job.startswith("labelfree_plot_") for job in jobs), jobs
