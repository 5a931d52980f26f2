"""The lossgrad demo chain end to end, and the workflow behaviours users rely on."""

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib import image

from xairepro.common.claims import broken_invariants, claims_only, failed_claims
from xairepro.common.io import load_arrays, read_csv, read_provenance
from xairepro.lossgrad.tables import svd_claims

from .conftest import assert_resumed_like, jobs_of, settle, snakemake

pytestmark = pytest.mark.workflow
OUT = "results/demo/lossgrad"


def test_demo_builds_every_lossgrad_output(demo_run):
    workdir, _ = demo_run
    for name in ("mnist_roar.csv", "mnist_sign_table.csv", "mnist_models.csv", "claims.csv",
                 "fig_mnist_roar.png", "fig_mnist_examples.png"):
        assert (workdir / OUT / name).stat().st_size > 0, name
    assert not list((workdir / OUT).rglob("checkpoints/*/*.pt")), "checkpoints must be removed after success"


def test_roar_table_is_complete_and_stamped(demo_run):
    workdir, _ = demo_run
    roar = read_csv(workdir / OUT / "mnist_roar.csv")
    assert set(roar.columns) >= {"variant", "seed", "method", "replacement", "order", "k", "accuracy", "loss"}
    assert len(roar) == 3 * 3 * 4 * 3 * 2 * 7  # variants x seeds x methods x replacements x orders x (6 levels + k=0)
    assert roar.accuracy.between(0, 1).all()
    stamp = read_provenance(workdir / OUT / "mnist_roar.csv")
    assert {"git_commit", "config_hash", "packages"} <= set(stamp)


def test_k0_accuracy_equals_clean_accuracy_everywhere(demo_run):
    workdir, _ = demo_run
    roar = read_csv(workdir / OUT / "mnist_roar.csv")
    models = read_csv(workdir / OUT / "mnist_models.csv").set_index(["variant", "seed"])
    at_zero = roar[roar.k == 0].join(models, on=["variant", "seed"])
    assert len(at_zero) == 9 * 24
    np.testing.assert_array_equal(at_zero.accuracy, at_zero.test_accuracy)


def test_random_ranking_ignores_order_within_noise(demo_run):
    workdir, _ = demo_run
    roar = read_csv(workdir / OUT / "mnist_roar.csv")
    random = roar[(roar.method == "random") & (roar.k > 0)]
    pivot = random.pivot_table(index=["variant", "seed", "replacement", "k"], columns="order", values="accuracy")
    # each point averages >= 90 test images: a few points of accuracy apart at most
    assert (pivot[1] - pivot[0]).abs().mean() < 0.03
    assert (pivot[1] - pivot[0]).abs().max() < 0.2


def test_loss_gradient_occlusion_reproduces_the_anomaly(demo_run):
    """The paper's claim: occluding by grad_orig (ROAR=1, mean) can beat the clean images."""
    workdir, _ = demo_run
    roar = read_csv(workdir / OUT / "mnist_roar.csv")
    sel = roar[(roar.variant == "softmax10") & (roar.method == "grad_orig") & (roar.replacement == "mean")
               & (roar.order == 1)]
    by_k = sel.groupby("k")[["accuracy", "loss"]].mean()
    assert by_k.loc[78, "accuracy"] > by_k.loc[0, "accuracy"]
    assert by_k.loc[78, "loss"] < by_k.loc[0, "loss"]
    top_abs = roar[(roar.variant == "softmax10") & (roar.method == "abs_grad") & (roar.replacement == "mean")
                   & (roar.order == 1)].groupby("k").accuracy.mean()
    assert top_abs.loc[235] < 0.5 * top_abs.loc[0]  # |g| finds the pixels the classifier needs


def test_every_claim_holds_at_demo_scale(demo_run):
    workdir, _ = demo_run
    claims = read_csv(workdir / OUT / "claims.csv", required=("claim", "kind", "statistic", "threshold", "value",
                                                               "control", "control_value", "verdict"))
    assert len(claims_only(claims)) >= 15
    assert failed_claims(claims) == []
    assert broken_invariants(claims) == []
    assert claims_only(claims).control.fillna("").str.len().gt(0).all(), "every claim needs a negative control"


def test_sign_table_counts_occluded_pixels(demo_run):
    workdir, _ = demo_run
    table = read_csv(workdir / OUT / "mnist_sign_table.csv")
    models = read_csv(workdir / OUT / "mnist_models.csv")
    roar = read_csv(workdir / OUT / "mnist_roar.csv")
    n_test = roar.groupby("variant").n.first()
    seeds = models.groupby("variant").seed.nunique()
    totals = table.groupby(["variant", "method", "order", "k"])[["grad_positive", "grad_negative", "grad_zero"]].sum()
    for (variant, _, _, k), row in totals.iterrows():
        assert row.sum() == n_test[variant] * seeds[variant] * k


def test_figures_show_something(demo_run):
    workdir, _ = demo_run
    for name, min_size in (("fig_mnist_roar.png", (600, 1500)), ("fig_mnist_examples.png", (400, 1000))):
        pixels = image.imread(workdir / OUT / name)
        assert pixels.shape[0] >= min_size[0] and pixels.shape[1] >= min_size[1], name
        assert pixels[..., :3].std() > 0.05, f"{name} is blank"


def figure_log(workdir, name: str) -> list[str]:
    """What a lossgrad plot job logged about its figure (title and notes)."""
    text = (workdir / "logs/demo/lossgrad" / f"{name}.log").read_text()
    # the study's figures module logs titles and coincidences, xairepro.common.plotting the notes
    return [line.split(": figure ", 1)[1] for line in text.splitlines()
            if "figures: figure " in line or "plotting: figure " in line]


def test_examples_figure_names_its_head_and_loss(demo_run):
    """issue 18: the examples figure says which head (output, loss, true label) its gradients are of."""
    workdir, _ = demo_run
    titles = [line for line in figure_log(workdir, "plot_examples") if line.startswith("title: ")]
    assert len(titles) == 1 and "Head: sigmoid, 0 vs 1, model seed 0" in titles[0], titles
    assert "binary cross-entropy at the true label" in titles[0]


@pytest.mark.parametrize("name", ["plot_roar", "plot_svd_roar"])
def test_occlusion_figures_state_the_demo_scale_and_name_coinciding_lines(demo_run, name):
    """issue 18: the demo note is drawn; every coincidence note names two or more rankings of one panel."""
    workdir, _ = demo_run
    notes = [line.split("note: ", 1)[1] for line in figure_log(workdir, name) if line.startswith("note: ")]
    assert sum(n.startswith("Demo scale: ") for n in notes) == 1, notes
    for note in notes:
        if not note.startswith("Demo scale: "):
            names, panel = note.split(" coincide in panel ")
            assert len(names.split(" = ")) >= 2 and "ROAR=" in panel, note


def test_training_metrics_record_every_epoch(demo_run):
    workdir, _ = demo_run
    record = json.loads((workdir / OUT / "models/softmax10/seed0.json").read_text())
    assert [h["epoch"] for h in record["history"]] == list(range(1, record["params"]["epochs"] + 1))
    assert record["resumed_from_epoch"] == 0
    assert record["history"][-1]["train_loss"] < record["history"][0]["train_loss"]


def test_every_job_wrote_a_log_and_a_benchmark(demo_run):
    workdir, _ = demo_run
    logs = list((workdir / "logs/demo/lossgrad").rglob("*.log"))
    benchmarks = list((workdir / "benchmarks/demo/lossgrad").rglob("*.tsv"))
    assert len(logs) == len(benchmarks) == 1 + 9 * 3 + 4 + 8  # MNIST chain + SVD chain (one model, aggregated)
    assert "final test accuracy" in (workdir / "logs/demo/lossgrad/train_classifier/sigmoid2_0.log").read_text()
    bench = pd.read_csv(benchmarks[0], sep="\t")
    assert "s" in bench.columns and bench["s"].iloc[0] > 0


def test_nothing_to_do_after_a_complete_run(demo_run):
    workdir, _ = demo_run
    out = snakemake(workdir, "-n").stdout
    assert "Nothing to be done" in out, out[-2000:]


def test_plot_only_parameter_reruns_only_the_plot(demo_run):
    workdir, _ = demo_run
    out = snakemake(workdir, "-n", "--config", 'lossgrad={"plot": {"spread": "std"}}').stdout
    assert set(jobs_of(out)) == {"lossgrad_plot_roar", "all"}, out[-3000:]
    out = snakemake(workdir, "-n", "--config", 'lossgrad={"plot": {"example_k": 100}}').stdout
    assert set(jobs_of(out)) == {"lossgrad_plot_examples", "all"}, out[-3000:]


def test_training_parameter_reruns_the_chain(demo_run):
    workdir, _ = demo_run
    out = snakemake(workdir, "-n", "--config", 'lossgrad={"mnist": {"demo": {"epochs": 2}}}').stdout
    jobs = jobs_of(out)
    assert jobs["lossgrad_train_classifier"] == 9 and jobs["lossgrad_compute_occlusion"] == 9


def test_report_has_the_figures(demo_report):
    html = demo_report.read_text(errors="replace")
    assert "fig_mnist_roar.png" in html and "fig_mnist_examples.png" in html


def test_killed_training_job_resumes_and_matches_the_uninterrupted_run(demo_run):
    workdir, _ = demo_run
    try:
        target = f"{OUT}/models/softmax10/seed1.json"
        reference = json.loads((workdir / target).read_text())
        killed = snakemake(workdir, target, "--cores", "1", "--forcerun", "lossgrad_train_classifier",
                           env={"XAIREPRO_FAULT_AFTER_EPOCH": "3"}, check=False)
        assert killed.returncode != 0
        assert not (workdir / target).exists() and not (workdir / target.replace(".json", ".pt")).exists()
        assert (workdir / f"{OUT}/checkpoints/softmax10/seed1.pt").exists()
        assert "Error in rule lossgrad_train_classifier" in killed.stdout
        snakemake(workdir, "--cores", "1", target)
        resumed = json.loads((workdir / target).read_text())
        assert_resumed_like(resumed, reference, 3, ("test_accuracy", "test_loss"))
    finally:
        settle(workdir)


# ------------------------------------------------------------------ singing-voice detection
def test_demo_builds_every_svd_output(demo_run):
    workdir, _ = demo_run
    for name in ("svd_eval.csv", "svd_roar.csv", "fig_svd_roar.png", "svd/seed0/gradients.npz",
                 "svd/seed0/model.pt", "svd/seed0/occlusion_items.npz", "svd/seed0/predictions.npz"):
        assert (workdir / OUT / name).stat().st_size > 0, name
    for name in ("spectrograms.npz", "znorm.npz"):
        assert (workdir / "data/demo/jamendo" / name).stat().st_size > 0, name
    assert not (workdir / OUT / "checkpoints/svd/seed0/model.pt").exists()


def test_svd_detector_learns_the_planted_voice(demo_run):
    workdir, _ = demo_run
    evaluation = read_csv(workdir / OUT / "svd_eval.csv").set_index("split")
    assert evaluation.loc["test", "auroc"] > 0.8
    assert evaluation.loc["test", "error"] < 0.2
    assert set(evaluation.columns) >= {"precision", "recall", "specificity", "f1", "error", "threshold"}
    assert evaluation.loc["test", "median_filter"] == 56
    record = json.loads((workdir / OUT / "svd/seed0/model.json").read_text())
    losses = [h["valid_loss"] for h in record["history"]]
    assert record["best_epoch"] == 1 + int(np.argmin(losses))  # the best validation checkpoint is kept


def test_svd_k0_occlusion_reproduces_the_clean_predictions(demo_run):
    workdir, _ = demo_run
    roar = read_csv(workdir / OUT / "svd_roar.csv")
    assert set(roar.order) == {0, 1} and set(roar.method) == {"abs_grad", "grad_orig", "grad_inp", "random"}
    assert sorted(set(roar.k)) == [0, 920, 2760, 4600, 6440, 8280, 9100]
    k0 = roar[roar.k == 0]
    assert len(k0) == roar.groupby(["method", "replacement", "order"]).ngroups
    assert (k0.max_abs_diff_clean <= 1e-6).all()
    for column in ("auroc", "error", "loss"):
        assert k0[column].max() - k0[column].min() <= 1e-12, column
    assert (roar[roar.k > 0].max_abs_diff_clean > 0).all()


def test_svd_figure_shows_something(demo_run):
    workdir, _ = demo_run
    pixels = image.imread(workdir / OUT / "fig_svd_roar.png")
    assert pixels.shape[0] >= 400 and pixels.shape[1] >= 500
    assert pixels[..., :3].std() > 0.05, "fig_svd_roar.png is blank"


def test_svd_gradient_cache_is_reused_when_only_occlusion_changes(demo_run):
    workdir, _ = demo_run
    for override in ('lossgrad={"svd": {"demo": {"occlude": [920, 4600]}}}',
                     'lossgrad={"svd": {"demo": {"ROAR": [1]}}}'):
        jobs = jobs_of(snakemake(workdir, "-n", "--config", override).stdout)
        assert "lossgrad_compute_svd_gradients" not in jobs and "lossgrad_train_svd" not in jobs, jobs
        assert jobs["lossgrad_compute_svd_occlusion"] == 1
    jobs = jobs_of(snakemake(workdir, "-n", "--config", 'lossgrad={"svd": {"demo": {"epochs": 2}}}').stdout)
    assert jobs["lossgrad_train_svd"] == 1 and jobs["lossgrad_compute_svd_gradients"] == 1


def test_svd_claims_are_in_the_study_claims(demo_run):
    workdir, _ = demo_run
    claims = read_csv(workdir / OUT / "claims.csv")
    svd = claims[claims.claim.str.startswith("svd:")]
    assert len(claims_only(svd)) == 4 and len(svd) == 5
    assert svd["pass"].all(), svd[~svd["pass"]].to_string()


def test_svd_claims_fail_when_the_ranking_comes_from_the_randomised_network(demo_run):
    """The g*x claims can fail: fed the randomised network's ranking as the explanation, they do."""
    workdir, _ = demo_run
    items = load_arrays(workdir / OUT / "svd/seed0/occlusion_items.npz")
    names = [str(c) for c in items["conditions"]]
    swapped = [n.replace("grad_inp|", "tmp|").replace("grad_inp@randomised|", "grad_inp|").replace("tmp|",
               "grad_inp@randomised|") for n in names]
    predictions = load_arrays(workdir / OUT / "svd/seed0/predictions.npz")
    claims = svd_claims(read_csv(workdir / OUT / "svd_eval.csv"), predictions,
                        read_csv(workdir / OUT / "svd_roar.csv"), dict(items, conditions=np.array(swapped)),
                        scale="demo", frame_step=12)
    gx = claims_only(claims)[claims_only(claims).claim.str.contains("g\\*x", regex=True)]
    assert len(gx) == 2 and (gx.verdict == "fail").all(), gx.to_string()
