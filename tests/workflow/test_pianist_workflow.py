"""The pianist demo chain inside the demo DAG, a kill-and-resume of its training rule and a
from-scratch re-run that must reproduce every table byte for byte. Other seeds are the
cross-study robustness sweep's (`snakemake robustness`)."""

import json
import shutil

import numpy as np
import pytest
from matplotlib import colors, image

from xairepro.common.claims import broken_invariants, claims_only, failed_claims
from xairepro.common.io import load_arrays, read_csv
from xairepro.pianist.figures import OUTLINE, clip_slug

from .conftest import copy_workflow, jobs_of, snakemake
from .test_determinism import without_commit

pytestmark = pytest.mark.workflow
OUT = "results/demo/pianist"
TABLES = ("tcav_sign_counts.csv", "concept_correlation.csv", "performer_correlation.csv",
          "accuracy_resnet.csv", "accuracy_disentangle.csv", "confusion_resnet.csv", "confusion_disentangle.csv",
          "tcav/sign_counts_experiments.csv", "claims.csv")


def test_one_lime_figure_per_held_out_clip_grouped_by_performer(demo_run):
    workdir, _ = demo_run
    data = load_arrays(workdir / "data/demo/pianist/clips.npz")
    held_out = int(np.isin(data["split"], [1, 2]).sum())
    figures = sorted((workdir / OUT / "lime/figures").glob("*/*.png"))
    assert len(figures) == held_out
    assert {f.parent.name for f in figures} == {str(p) for p in data["performer"]}
    pixels = image.imread(figures[0])
    assert pixels[..., :3].std() > 0.05
    lime = load_arrays(workdir / OUT / "lime/explanations.npz")
    assert lime["mask"].shape == (held_out, 88, 60)


def test_every_lime_mask_outlines_part_of_the_roll_and_every_figure_draws_it(demo_run):
    """Neither an empty mask nor the whole roll (the demo's 17 of 48 before the quickshift
    kernel was fitted to its 10 fps rolls), and the red outline is in every PNG."""
    workdir, _ = demo_run
    lime = load_arrays(workdir / OUT / "lime/explanations.npz")
    area = lime["mask"].mean(axis=(1, 2))
    assert (area > 0).all() and (area < 0.5).all(), np.round(area, 3)
    cover = lime["note_coverage"]
    assert ((cover > 0) & (cover < 1)).all(), np.round(cover, 3)
    assert (lime["n_segments"] >= 20).all() and (lime["control_n_segments"] <= 6).all()
    red = np.array(colors.to_rgb(OUTLINE))
    for figure in sorted((workdir / OUT / "lime/figures").glob("*/*.png")):
        pixels = image.imread(figure)[..., :3]
        # a one-cell outline plus the legend's line is ~60 pixels; the demo's outlines have > 2,000
        assert (np.abs(pixels - red).sum(-1) < 0.15).sum() > 500, figure.name


def test_no_kernel_heatmap_panel_is_one_colour(demo_run):
    """Each concept's map varies (its panel has its own colour scale), or its sensitivity is 0
    and the panel says so; one figure per named clip."""
    workdir, _ = demo_run
    heat = load_arrays(workdir / OUT / "tcav/kernel_heatmaps.npz")
    for i, clip in enumerate(heat["clips"]):
        spread = np.ptp(heat[f"map_{i}"].reshape(len(heat["concepts"]), -1), axis=1)
        assert ((spread > 0) | (heat[f"s_orig_{i}"] == 0)).all(), (clip, spread)
        png = workdir / OUT / "kernel_heatmaps" / f"{clip_slug(str(clip))}.png"
        assert image.imread(png).shape[1] > 1000  # four panels of 3 in, not squeezed into 6 in


def test_tcav_outputs_and_declared_cavs(demo_run):
    workdir, _ = demo_run
    cavs = load_arrays(workdir / OUT / "tcav/cavs.npz")
    assert cavs["cavs"].shape[:2] == (8, 50) and cavs["random_cavs"].shape == (50, cavs["cavs"].shape[2])
    assert cavs["control_cavs"].shape == cavs["cavs"].shape
    assert int(np.prod(cavs["layer_shape"])) == cavs["cavs"].shape[2]  # derived from the model
    summary = read_csv(workdir / OUT / "tcav_sign_counts.csv",
                       required=("performer", "concept", "sign_count", "p_bonferroni", "stars"))
    assert len(summary) == 4 * 8
    record = json.loads((workdir / OUT / "tcav/sensitivities.json").read_text())
    clip = next(iter(record["clips"].values()))
    assert set(clip["sensitivity"]) == set(cavs["concepts"]) and len(clip["random"]) == 50
    for name in ("fig_tcav_sign_counts.png", "fig_concept_correlation.png", "fig_performer_correlation.png",
                 "kernel_heatmaps/synth__cleo-track08__clip_000.png"):
        assert (workdir / OUT / name).stat().st_size > 0, name
    assert not list((workdir / OUT).rglob("*.p")) and not list((workdir / OUT).rglob("*.pkl"))


def test_planted_concepts_are_recovered_and_every_claim_holds(demo_run):
    workdir, _ = demo_run
    truth = json.loads((workdir / "data/demo/pianist/truth.json").read_text())
    summary = read_csv(workdir / OUT / "tcav_sign_counts.csv")
    planted = summary.apply(lambda r: r.concept in truth["planted"][r.performer], axis=1)
    assert summary.sign_count[planted].min() > summary.sign_count[~planted].mean() + 0.3
    claims = read_csv(workdir / OUT / "claims.csv")
    assert failed_claims(claims) == [] and broken_invariants(claims) == []
    rows = claims_only(claims)
    assert len(rows) == 5 and rows.control.notna().all() and (rows.control != "").all()
    assert not claims.claim.str.contains("#").any()
    assert not rows.control_pass.any(), rows.to_string()
    accuracy = read_csv(workdir / OUT / "accuracy_resnet.csv")
    assert (accuracy.randomised_track_accuracy <= 0.5).all()  # the randomised control at chance


def test_pianist_plot_knob_reruns_only_plot_rules(demo_run):
    workdir, _ = demo_run
    out = snakemake(workdir, "-n", "pianist", "--config", 'pianist={"plot": {"width": 7}}').stdout
    jobs = set(jobs_of(out)) - {"pianist"}
    assert jobs and all(job.startswith("pianist_plot_") for job in jobs), jobs


def test_heatmap_clips_knob_reruns_only_the_heatmaps(demo_run):
    workdir, _ = demo_run
    clips = '["synth/ana-track00/clip_000.mid", "synth/ben-track01/clip_001.mid"]'
    out = snakemake(workdir, "-n", "pianist", "--config",
                    'pianist={"tcav": {"demo": {"sensitivity_heatmap_clips": ' + clips + '}}}').stdout
    assert set(jobs_of(out)) - {"pianist"} == {"pianist_compute_kernel_heatmaps", "pianist_plot_kernel_heatmaps"}, out


def _data_copy(demo_run, tmp_path):
    """A fresh workflow copy holding only the demo's generated data (mtimes kept)."""
    workdir, _ = demo_run
    copy = copy_workflow(tmp_path / "wf")
    shutil.copytree(workdir / "data/demo/pianist", copy / "data/demo/pianist")
    return copy


def test_an_edited_clip_reruns_what_was_computed_from_it(demo_run, tmp_path):
    """The clips are a directory() output, dated by the directory's own mtime: the rules that
    read them declare the files too (files_under), so one edited clip reruns the chain."""
    workdir, _ = demo_run
    copy = _data_copy(demo_run, tmp_path)
    shutil.copytree(workdir / OUT, copy / OUT)  # copy2: mtimes kept, the copy is up to date
    targets = (f"{OUT}/claims.csv", f"{OUT}/lime/figures")
    assert "pianist_prepare_clips" not in jobs_of(snakemake(copy, "-n", *targets).stdout)
    clip = sorted((copy / "data/demo/pianist/clips").rglob("*.mid"))[0]
    with clip.open("ab") as handle:
        handle.write(b"\0")
    jobs = set(jobs_of(snakemake(copy, "-n", *targets).stdout))
    assert {"pianist_prepare_clips", "pianist_train_model", "pianist_compute_lime", "pianist_plot_lime",
            "pianist_write_claims"} <= jobs, jobs


def test_killed_training_job_resumes_and_matches_the_uninterrupted_run(demo_run, tmp_path):
    workdir, _ = demo_run
    copy = _data_copy(demo_run, tmp_path)
    target = f"{OUT}/models/resnet.json"
    killed = snakemake(copy, target, "--cores", "1", env={"XAIREPRO_FAULT_AFTER_EPOCH": "1"}, check=False)
    assert killed.returncode != 0 and "Error in rule pianist_train_model" in killed.stdout
    assert not (copy / target).exists() and not (copy / f"{OUT}/models/resnet.pt").exists()
    assert (copy / f"{OUT}/checkpoints/resnet.pt").exists()
    snakemake(copy, target, "--cores", "1")
    assert "resuming from" in (copy / "logs/demo/pianist/train_model/resnet.log").read_text()
    resumed, reference = (json.loads((d / target).read_text()) for d in (copy, workdir))
    assert resumed["resumed_from_epoch"] == 1 and len(resumed["history"]) == len(reference["history"])
    for got, want in zip(resumed["history"], reference["history"]):
        assert got == pytest.approx(want, rel=1e-6)
    assert resumed["test_track_accuracy"] == reference["test_track_accuracy"]
    assert not (copy / f"{OUT}/checkpoints/resnet.pt").exists()


@pytest.fixture(scope="module")
def fresh_run(tmp_path_factory):
    """The pianist chain up to its claims (and the LIME explanations) from scratch in a fresh
    copy, not the shared demo run."""
    workdir = copy_workflow(tmp_path_factory.mktemp("pianist_fresh"))
    snakemake(workdir, *[f"{OUT}/{table}" for table in TABLES], f"{OUT}/lime/explanations.npz", "--cores", "2")
    return workdir


def test_pianist_chain_from_scratch_reproduces_every_table(demo_run, fresh_run):
    workdir, _ = demo_run
    fresh = fresh_run
    for name in TABLES:
        assert without_commit(fresh / OUT / name) == without_commit(workdir / OUT / name), name
    lime = [load_arrays(d / OUT / "lime/explanations.npz") for d in (fresh, workdir)]
    assert lime[0].keys() == lime[1].keys()
    for key in lime[0]:
        assert np.array_equal(lime[0][key], lime[1][key]), key
