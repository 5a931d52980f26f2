"""The interactive demo chain inside the demo DAG, a killed classifier job resuming, and
the chain's determinism on a small config: the same seeds give the same tables byte for
byte. Other seeds are the cross-study robustness target's (``snakemake robustness``)."""

import json

import pytest
from matplotlib import image

from xairepro.common.claims import broken_invariants, claims_only, failed_claims
from xairepro.common.io import read_csv, read_json

from .conftest import copy_workflow, jobs_of, snakemake

pytestmark = pytest.mark.workflow
OUT = "results/demo/interactive"
CLASSIFIERS = ("celeb-Smiling", "celeb-Heavy_Makeup", "celeb-Male", "celeb-Young", "flowers102_c49-c65",
               "flowers102_c63-c54")


def test_demo_builds_every_interactive_output(demo_run):
    workdir, _ = demo_run
    for name in CLASSIFIERS:
        pixels = image.imread(workdir / OUT / f"fig_heatmaps_{name}.png")
        assert pixels[..., :3].std() > 0.05, name
        assert not (workdir / OUT / "checkpoints/classifiers" / f"{name}.pt").exists()
    canvases = image.imread(workdir / OUT / "fig_canvases_Smiling.png")
    assert canvases.shape[0] > 4 * 96 and canvases[..., :3].std() > 0.05
    data = workdir / "data/demo"
    assert (data / "celebamask_hq/CelebAMask-HQ-attribute-anno.txt").is_file()
    assert len(list((data / "celebamask_hq/CelebA-HQ-img").glob("*.jpg"))) == 300
    assert (data / "flowers102/imagelabels.mat").is_file() and (data / "flowers102/regions.npz").is_file()


def test_classifiers_and_latent_models_beat_their_baselines(demo_run):
    workdir, _ = demo_run
    classifiers = read_csv(workdir / OUT / "classifiers.csv", required=("classifier", "valid_acc", "baseline_acc"))
    assert set(classifiers.classifier) == set(CLASSIFIERS)
    assert (classifiers.valid_acc > classifiers.baseline_acc).all()
    latent = read_csv(workdir / OUT / "latent_models.csv", required=("attr", "valid_bce", "baseline_bce"))
    assert (latent.valid_bce < latent.baseline_bce).all()
    record = read_json(workdir / OUT / "latent/dataset.json")
    assert record["truncation"] == "w_avg + psi * (w - w_avg)" and record["original_relative_deviation_mean"] > 0


def test_every_interactive_claim_holds_at_demo_scale(demo_run):
    workdir, _ = demo_run
    claims = read_csv(workdir / OUT / "claims.csv", required=("claim", "kind", "verdict", "control"))
    assert failed_claims(claims) == [] and broken_invariants(claims) == []
    assert (claims_only(claims)["control"].fillna("") != "").all()
    # 6 classifiers, 4 x 3 (faces) + 2 x 1 (flowers) heatmap claims, 4 moves;
    # invariants: 2 guided methods, the truncation
    assert len(claims_only(claims)) == 6 + 14 + 4 and len(claims) == 24 + 3


def test_interactive_plot_knob_reruns_only_plot_rules(demo_run):
    workdir, _ = demo_run
    out = snakemake(workdir, "-n", "--config", 'interactive={"plot": {"dpi": 50, "canvas_hw": 64}}').stdout
    jobs = set(jobs_of(out)) - {"all"}
    assert {"interactive_plot_heatmaps", "interactive_plot_canvases"} <= jobs, out[-3000:]
    assert all(job.startswith("interactive_plot_") for job in jobs), jobs
    # each plot rule gets only its own knobs: the heatmaps' dpi leaves the canvases alone
    out = snakemake(workdir, "-n", "--config", 'interactive={"plot": {"dpi": 50}}').stdout
    assert set(jobs_of(out)) - {"all"} == {"interactive_plot_heatmaps"}, out[-3000:]


TINY = "interactive=" + json.dumps({
    "celeb": {"demo": {"n_images": 40}},
    "flowers": {"demo": {"n_per_class": 8}},
    "train": {"demo": {"attrs": ["Young"], "flower_pairs": ["63-54"], "size": 32, "freeze_epochs": 1,
                       "unfreeze_epochs": 1}},
    "heatmaps": {"demo": {"n_imgs": 1, "n_steps": 4, "nt_samples": 4}},
    "generator": {"demo": {"img_resolution": 16, "epochs": 2}},
    "generative": {"demo": {"attrs": ["Young"], "eval_attrs": ["Young"], "n_train": 60, "n_valid": 20,
                            "epochs": 3, "reconstruction_steps": 5, "n_input_imgs": 2}},
})
def test_killed_classifier_job_resumes_and_matches_the_uninterrupted_run(tmp_path):
    """On the tiny config in its own copy (the shared demo run stays up to date)."""
    fresh = copy_workflow(tmp_path / "wf")
    target = f"{OUT}/classifiers/celeb-Young.json"
    snakemake(fresh, target, "--cores", "2", "--config", TINY)
    reference = read_json(fresh / target)
    killed = snakemake(fresh, target, "--cores", "2", "--config", TINY, "--forcerun", "interactive_train_classifier",
                       env={"XAIREPRO_FAULT_AFTER_EPOCH": "1"}, check=False)
    assert killed.returncode != 0 and "Error in rule interactive_train_classifier" in killed.stdout
    assert not (fresh / target).exists() and not (fresh / target.replace(".json", ".pt")).exists()
    assert (fresh / OUT / "checkpoints/classifiers/celeb-Young.pt").exists()
    snakemake(fresh, target, "--cores", "2", "--config", TINY)
    log = (fresh / "logs/demo/interactive/train_classifier/celeb-Young.log").read_text()
    assert "resuming from" in log and "after epoch 1 of 2" in log
    resumed = read_json(fresh / target)
    assert resumed["resumed_from_epoch"] == 1 and len(resumed["history"]) == len(reference["history"]) == 2
    for got, want in zip(resumed["history"], reference["history"]):
        assert got == pytest.approx(want, rel=1e-6)
    assert resumed["valid_bce"] == pytest.approx(reference["valid_bce"], rel=1e-6)
    assert not (fresh / OUT / "checkpoints/classifiers/celeb-Young.pt").exists()



TABLES = ("classifiers.csv", "heatmaps.csv", "latent_models.csv", "generative.csv", "generative/Young.csv",
          "claims.csv")
# The chain up to its claims (no figures), shrunk (one attribute, one flower pair, 32 px, few
# epochs and steps): 40-90 s a run on 2 busy cores. Too small for its claims to have power;
# it checks determinism only.
SMALL = {
    "celeb": {"demo": {"n_images": 120}},
    "flowers": {"demo": {"n_per_class": 40}},
    "train": {"demo": {"attrs": ["Young"], "flower_pairs": ["49-65"], "size": 32, "freeze_epochs": 1,
                       "unfreeze_epochs": 2}},
    "heatmaps": {"demo": {"n_imgs": 2, "n_steps": 8, "nt_samples": 8}},
    "generator": {"demo": {"img_resolution": 16, "epochs": 10}},
    "generative": {"demo": {"attrs": ["Young"], "eval_attrs": ["Young"], "n_train": 200, "n_valid": 100,
                            "epochs": 20, "reconstruction_steps": 20, "n_input_imgs": 3, "ampl": 0.6}},
}
def small_config() -> str:
    return "interactive=" + json.dumps(SMALL)


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory):
    """The chain up to its claims on the small config from scratch, twice, in fresh copies."""
    runs = {}
    for name in ("first", "again"):
        workdir = copy_workflow(tmp_path_factory.mktemp(f"interactive_{name}"))
        snakemake(workdir, *[f"{OUT}/{table}" for table in TABLES], "--cores", "2", "--config", small_config())
        runs[name] = workdir
    return runs


def without_commit(path):
    return b"".join(line for line in path.read_bytes().splitlines(keepends=True)
                    if not line.startswith(b"# git_commit"))


def test_interactive_chain_twice_from_scratch_gives_identical_tables(small_runs):
    first, again = small_runs["first"] / OUT, small_runs["again"] / OUT
    for table in TABLES:
        assert without_commit(first / table) == without_commit(again / table), table
    # the learned and the random (control) moves of 3 faces, 7 steps each
    assert len(read_csv(first / "generative/Young.csv")) == 2 * 3 * 7


def test_an_image_that_is_not_an_image_stops_the_rule_with_no_output(tmp_path):
    fresh = copy_workflow(tmp_path / "wf")
    snakemake(fresh, "data/demo/celebamask_hq/CelebAMask-HQ-attribute-anno.txt", "--cores", "1")
    (fresh / "data/demo/celebamask_hq/CelebA-HQ-img/7.jpg").write_text("not a jpeg")
    target = f"{OUT}/classifiers/celeb-Young.json"
    proc = snakemake(fresh, target, "--cores", "1", check=False)
    assert proc.returncode != 0
    log = (fresh / "logs/demo/interactive/train_classifier/celeb-Young.log").read_text()
    assert "CelebA-HQ-img/7.jpg: not a readable image" in log
    assert not (fresh / target).exists() and not (fresh / target.replace(".json", ".pt")).exists()


def test_paper_scale_without_the_celebamask_archive_says_where_to_put_it(tmp_path):
    fresh = copy_workflow(tmp_path / "wf")
    proc = snakemake(fresh, "data/paper/celebamask_hq/CelebAMask-HQ-attribute-anno.txt", "--cores", "1",
                     "--config", "scale=paper", check=False)
    assert proc.returncode != 0
    log = (fresh / "logs/paper/interactive/place_celebamask_hq.log").read_text()
    assert "data/paper/celebamask_hq/CelebAMask-HQ.zip" in log and "Google Drive" in log
    assert not (fresh / "data/paper/celebamask_hq/CelebA-HQ-img").exists()
