"""The interactive demo chain inside the demo DAG, a killed classifier job resuming, and
the chain's determinism on a small config: the same seeds give the same tables byte for
byte. Other seeds are the cross-study robustness target's (``snakemake robustness``)."""

import json
import math
import os
import re
import time

import numpy as np
import pytest
from matplotlib import colormaps, image

from xairepro.common.claims import broken_invariants, claims_only, failed_claims
from xairepro.common.io import load_arrays, read_csv, read_json
from xairepro.interactive.figures import all_zero, score_cmap

from .conftest import copy_workflow, jobs_of, snakemake

pytestmark = pytest.mark.workflow
OUT = "results/demo/interactive"
CLASSIFIERS = ("celeb-Smiling", "celeb-Heavy_Makeup", "celeb-Male", "celeb-Young", "flowers102_c49-c65",
               "flowers102_c63-c54")


def colourbar_span(pixels: np.ndarray, cmap, *, vertical: bool) -> int:
    """Longest run of pixels along one column (``vertical``, top = the colormap's top) or one
    row (left = its bottom) that walks through ``cmap`` monotonically from below 6 % to above
    94 % of it, through at least 50 of its 256 colours: a colourbar. Constant panels, score
    bars and heatmaps have no such run. pixels: (H, W, 3+) floats in [0, 1]."""
    lut = cmap(np.linspace(0, 1, 256))[:, :3]  # (256, 3)
    rgb = np.round(pixels[..., :3] * 255).astype(int)
    codes, inverse = np.unique((rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2], return_inverse=True)
    colours = np.stack([codes >> 16, (codes >> 8) & 255, codes & 255], axis=1) / 255.0  # (colours, 3)
    chunks = np.array_split(colours, max(1, len(colours) // 4096))
    dist = np.concatenate([np.linalg.norm(chunk[:, None] - lut[None], axis=2) for chunk in chunks])  # (colours, 256)
    nearest = dist.argmin(1)[inverse.ravel()].reshape(rgb.shape[:2])  # (H, W) colormap index
    close = (dist.min(1) < 0.03)[inverse.ravel()].reshape(rgb.shape[:2])
    if vertical:  # columns, bottom of the figure (the colormap's bottom) first
        nearest, close = nearest[::-1].T, close[::-1].T
    best = 0
    for index, ok in zip(nearest, close):
        # runs end where a pixel is off the colormap or the colormap index falls
        breaks = np.flatnonzero(~ok[1:] | ~ok[:-1] | (index[1:] < index[:-1])) + 1
        for run, good in zip(np.split(index, breaks), np.split(ok, breaks)):
            if good.all() and run[0] < 15 and run[-1] > 240 and len(np.unique(run)) >= 50:
                best = max(best, len(run))
    return best


def constant_window(pixels: np.ndarray, allowed: list, side: int = 40) -> bool:
    """Whether some side x side window holds one colour other than the ``allowed`` RGB
    colours (in [0, 1]): a panel drawn in one colour, as the all-zero maps once were in dark red."""
    rgb = np.round(pixels[..., :3] * 255).astype(int)
    code = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    # a pixel whose right and lower neighbours share its colour; a window of side - 1 such
    # pixels on a side is one colour throughout
    same = np.ones_like(code, bool)
    same[:, :-1] &= code[:, 1:] == code[:, :-1]
    same[:-1] &= code[1:] == code[:-1]
    integral = np.pad(same.astype(int), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    s = side - 1
    counts = integral[s:, s:] - integral[:-s, s:] - integral[s:, :-s] + integral[:-s, :-s]
    colours = code[:counts.shape[0], :counts.shape[1]][counts == s * s]
    allowed_codes = [(round(r * 255) << 16) | (round(g * 255) << 8) | round(b * 255) for r, g, b in allowed]
    return bool(np.isin(colours, allowed_codes, invert=True).any())


def test_demo_builds_every_interactive_output(demo_run):
    workdir, _ = demo_run
    seismic = colormaps["seismic"]
    for name in CLASSIFIERS:
        pixels = image.imread(workdir / OUT / f"fig_heatmaps_{name}.png")
        assert pixels[..., :3].std() > 0.05, name
        assert not (workdir / OUT / "checkpoints/classifiers" / f"{name}.pt").exists()
        # what a reader relies on: a colourbar, and no panel in one colour (an all-zero map is
        # drawn as 0, white, and labelled: tests/interactive/test_interactive_figures.py)
        right = pixels[:, int(0.7 * pixels.shape[1]):]  # the colourbar sits right of the panels
        assert colourbar_span(right, seismic, vertical=True) > 150, name
        assert not constant_window(pixels, [(1.0, 1.0, 1.0), seismic(0.5)[:3]]), name
        cache = load_arrays(workdir / OUT / "heatmaps" / f"{name}.npz")
        for method in cache["methods"]:
            zero = all_zero(cache[f"raw_{method}"])
            assert (cache[f"map_{method}"][zero] == 0).all(), (name, method)
    frames = load_arrays(workdir / OUT / "generative/Smiling.npz")
    n_dir, n_img = frames["eval_logits"].shape[:2]
    per_page = 6  # config/interactive.yaml plot.canvas_rows
    pages = sorted((workdir / OUT / "fig_canvases_Smiling").glob("*.png"))
    assert len(pages) == n_dir * math.ceil(n_img / per_page) and n_img > per_page, [p.name for p in pages]
    assert {re.sub(r"_\d+$", "", p.stem) for p in pages} == {f"move_{d}" for d in frames["directions"]}
    for page in pages:
        pixels = image.imread(page)
        # a few rows, readable at 100 %: at most 6 rows of 96 px frames with bars, title and colourbar
        assert pixels.shape[0] <= 100 * (1.15 + per_page * 1.38 + 1.2) + 2 and pixels.shape[1] <= 1000, page.name
        assert pixels[..., :3].std() > 0.05, page.name
        bottom = pixels[int(0.8 * pixels.shape[0]):]  # the colourbar sits under the rows
        assert colourbar_span(bottom, score_cmap(), vertical=False) > 300, page.name
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
    out = snakemake(workdir, "-n", "--config", 'interactive={"plot": {"canvas_rows": 3}}').stdout
    assert set(jobs_of(out)) - {"all"} == {"interactive_plot_canvases"}, out[-3000:]


def test_an_edited_face_reruns_what_was_computed_from_it(demo_run):
    """The image folders are directory() inputs, dated by the folder; the rules list their
    files too (files_under), so a newer face re-runs the face jobs, and only those."""
    workdir, _ = demo_run
    face = sorted((workdir / "data/demo/celebamask_hq/CelebA-HQ-img").glob("*.jpg"))[0]
    before = face.stat()
    try:
        os.utime(face, (time.time(), time.time()))
        jobs = jobs_of(snakemake(workdir, "-n").stdout)
    finally:
        os.utime(face, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert jobs.get("interactive_train_classifier") == 4, jobs  # the celeb attributes, not the flowers
    assert jobs.get("interactive_compute_heatmaps") == 4, jobs
    assert {"interactive_train_generator", "interactive_explain_generative"} <= set(jobs), jobs
    assert jobs_of(snakemake(workdir, "-n").stdout).get("interactive_train_classifier") is None


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


@pytest.mark.determinism
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
