"""The labelfree demo chains inside the demo DAG: every figure, table and claim."""

import json

import pytest
from matplotlib import image

from xairepro.common.claims import broken_invariants, claims_only, failed_claims
from xairepro.common.io import read_csv
from xairepro.labelfree.figures import plot_consistency_features
from xairepro.labelfree.tables import DATASET_NAMES

from .conftest import assert_resumed_like, copy_workflow, jobs_of, settle, snakemake

pytestmark = pytest.mark.workflow
OUT = "results/demo/labelfree"


@pytest.mark.parametrize("dataset", ["mnist", "ecg"])
def test_consistency_features_table_and_figure(demo_run, dataset):
    workdir, _ = demo_run
    table = read_csv(workdir / OUT / f"consistency_features_{dataset}.csv",
                     required=("seed", "method", "fraction", "item", "representation_shift"))
    assert set(table.method) == {"integrated_gradients", "gradient_shap", "saliency", "random", "random_attribution"}
    assert (table.loc[table.fraction == 0, "representation_shift"] == 0).all()
    # issue 5: at 10-20 % masked, label-free IG and Saliency move the representation more than random
    mean = table.groupby(["method", "fraction"]).representation_shift.mean()
    for fraction in (0.1, 0.2):
        for method in ("integrated_gradients", "saliency"):
            assert mean[method, fraction] > mean["random", fraction], (dataset, method, fraction)
    pixels = image.imread(workdir / OUT / f"fig_feature_consistency_{dataset}.png")
    assert pixels[..., :3].std() > 0.05


@pytest.mark.parametrize("name", ["fig_example_consistency_mnist", "fig_disentanglement_mnist",
                                  "fig_disentanglement_dsprites", "fig_encoder_vs_full_mnist",
                                  "fig_pretext_saliency_mnist", "fig_pretext_examples_mnist"])
def test_every_labelfree_figure_shows_something(demo_run, name):
    workdir, _ = demo_run
    assert image.imread(workdir / OUT / f"{name}.png")[..., :3].std() > 0.05


def figure_notes(workdir, log: str) -> list[str]:
    """The notes a plot job drew under its axes, as its log lists them."""
    text = (workdir / "logs/demo/labelfree" / log).read_text()
    return [line.split("figure note: ", 1)[1] for line in text.splitlines() if "figure note: " in line]


@pytest.mark.parametrize("dataset", ["mnist", "ecg"])
def test_feature_figure_names_exactly_the_coinciding_methods_of_the_demo_curves(demo_run, dataset):
    """issue 18: a line standing for several methods says so, computed from the data."""
    workdir, _ = demo_run
    table = read_csv(workdir / OUT / f"consistency_features_{dataset}.csv")
    redrawn = plot_consistency_features(table, DATASET_NAMES[dataset])
    expected = [t.get_text().replace("\n", " ") for t in redrawn.texts if t.get_gid() == "coincidence"]
    notes = figure_notes(workdir, f"plot_consistency_features/{dataset}.log")
    assert [n for n in notes if not n.startswith("Demo scale")] == expected
    assert all(" coincide " in n and n.count(",") + n.count(" and ") >= 1 for n in expected)


@pytest.mark.parametrize("log", ["plot_consistency_features/mnist.log", "plot_consistency_features/ecg.log",
                                 "plot_consistency_examples/mnist.log", "plot_encoder_vs_full.log",
                                 "plot_disvae/mnist.log", "plot_disvae/dsprites.log"])
def test_every_demo_figure_states_its_scale(demo_run, log):
    """issue 18: demo figures say they are demo scale; those marking FACT's values say why they differ."""
    workdir, _ = demo_run
    notes = [n for n in figure_notes(workdir, log) if n.startswith("Demo scale: ")]
    assert len(notes) == 1 and "epochs" in notes[0], notes
    if "disvae" in log or "encoder_vs_full" in log:
        assert "FACT's published means" in notes[0] and "for reference only" in notes[0]


def test_dknn_most_important_examples_share_the_label_more_than_least_important(demo_run):
    workdir, _ = demo_run
    rates = read_csv(workdir / OUT / "consistency_examples_mnist.csv")
    rates = rates[rates["labels"] == "true"]
    dknn = rates[rates.explainer == "dknn"].groupby(["examples", "fraction"]).similarity_rate.mean()
    small = rates.fraction.min()
    assert dknn["most important", small] > dknn["least important", small] + 0.2


def test_every_labelfree_claim_holds_at_demo_scale(demo_run):
    workdir, _ = demo_run
    claims = read_csv(workdir / OUT / "claims.csv")
    # claim 1.1 on MNIST and ECG (3 methods + 1 invariant each), 1.2 (5 explainers x 2), encoder vs full (3),
    # 2.1/2.2, 3 (2 data sets x 2 losses)
    assert len(claims) == 2 * 4 + 2 * 5 + 3 + 2 + 4 and len(claims_only(claims)) == len(claims) - 2
    assert failed_claims(claims) == [] and broken_invariants(claims) == []
    assert (claims_only(claims).control.fillna("") != "").all()


def test_labelfree_plot_knob_reruns_only_its_plot(demo_run):
    workdir, _ = demo_run
    out = snakemake(workdir, "-n", "--config", 'labelfree={"plot": {"width": 5}}').stdout
    jobs = set(jobs_of(out)) - {"all"}
    # the knob styles every labelfree figure: all their plot rules re-run, nothing else does
    assert "labelfree_plot_consistency_features" in jobs, out[-3000:]
    assert all(job.startswith("labelfree_plot_") for job in jobs), jobs


def test_killed_ecg_training_resumes_and_matches_the_uninterrupted_run(demo_run):
    workdir, _ = demo_run
    try:
        target = f"{OUT}/ecg/autoencoder/seed0.json"
        reference = json.loads((workdir / target).read_text())
        killed = snakemake(workdir, target, "--cores", "1", "--forcerun", "labelfree_train_autoencoder",
                           env={"XAIREPRO_FAULT_AFTER_EPOCH": "5"}, check=False)
        assert killed.returncode != 0 and "Error in rule labelfree_train_autoencoder" in killed.stdout
        assert not (workdir / target).exists() and not (workdir / target.replace(".json", ".pt")).exists()
        assert (workdir / f"{OUT}/checkpoints/autoencoder/ecg/seed0.pt").exists()
        snakemake(workdir, "--cores", "1", target)
        assert_resumed_like(json.loads((workdir / target).read_text()), reference, 5, ("valid_loss",))
    finally:
        settle(workdir)


def test_a_corrupt_input_fails_the_job_with_its_log_path_and_no_output(tmp_path):
    workdir = copy_workflow(tmp_path)
    data = workdir / "data/demo/ecg/ecg.npz"
    data.parent.mkdir(parents=True)
    data.write_bytes(b"PK\x03\x04 this is not an npz file")
    target = f"{OUT}/ecg/autoencoder/seed0.pt"
    proc = snakemake(workdir, target, "--cores", "1", check=False)
    log = "logs/demo/labelfree/train_autoencoder/ecg_0.log"
    assert proc.returncode != 0 and log in proc.stdout
    message = (workdir / log).read_text()
    assert "data/demo/ecg/ecg.npz" in message and "re-run the rule that makes it" in message
    assert not (workdir / target).exists() and not (workdir / target.replace(".pt", ".json")).exists()


def small_ecg_config(seed: int) -> str:
    return "labelfree=" + json.dumps({"consistency_features_ecg": {"demo": {
        "seeds": [seed], "epochs": 4, "n_test": 30, "ig_steps": 10, "mask_fractions": [0, 0.1, 0.2, 1.0],
    }}})


@pytest.fixture(scope="module")
def ecg_runs(tmp_path_factory):
    """The ECG claim-1.1 chain from scratch twice at seed 0."""
    out = {}
    for name in ("first", "again"):
        workdir = copy_workflow(tmp_path_factory.mktemp(f"ecg_{name}"))
        snakemake(workdir, f"{OUT}/consistency_features_ecg.csv", "--cores", "2", "--config", small_ecg_config(0))
        out[name] = workdir / OUT / "consistency_features_ecg.csv"
    return out


@pytest.mark.determinism
def test_ecg_chain_is_deterministic(ecg_runs):
    strip = lambda path: [line for line in path.read_text().splitlines() if not line.startswith("# git_commit")]  # noqa: E731
    assert strip(ecg_runs["first"]) == strip(ecg_runs["again"])
