"""The esc50 demo chain through Snakemake: outputs, planted truth, claims with controls, resume, determinism."""

import json
import os

import numpy as np
import pytest
import soundfile as sf
from matplotlib import image

from xairepro.common.claims import COLUMNS, broken_invariants, claims_only, failed_claims
from xairepro.common.io import read_csv

from .conftest import assert_resumed_like, copy_workflow, snakemake

pytestmark = pytest.mark.workflow
OUT = "results/demo/esc50"


def test_demo_builds_every_esc50_output(demo_run):
    workdir, _ = demo_run
    for name in ("accuracy_table.csv", "interpretation_table.csv", "claims.csv", "overlap.csv", "fig_overlap.png",
                 "fig_clips_piq_conv2d.png", "fig_clips_l2i_conv2d.png", "interpretations/piq_conv2d.npz"):
        assert (workdir / OUT / name).stat().st_size > 0, name
    assert not list((workdir / OUT / "checkpoints").rglob("*.pt"))


def test_interpretation_table_has_both_faithfulness_variants(demo_run):
    workdir, _ = demo_run
    table = read_csv(workdir / OUT / "interpretation_table.csv")
    assert {("piq", "conv2d"), ("l2i", "conv2d")} <= set(zip(table.method, table.arch))
    assert {"fidelity_to_input", "faithfulness_mask_in", "fidelity_to_input_mask_out", "faithfulness_mask_out",
            "planted_ratio", "oracle_fidelity_to_input", "n_clips"} <= set(table.columns)
    assert table[["fidelity_to_input", "fidelity_to_input_mask_out"]].stack().between(0, 1).all()
    assert (table.faithfulness_mask_in.abs() <= 1).all()


def test_piq_mask_finds_the_planted_region(demo_run):
    workdir, _ = demo_run
    table = read_csv(workdir / OUT / "interpretation_table.csv").set_index(["method", "arch"])
    piq = table.loc[("piq", "conv2d")]
    assert piq.planted_ratio > 2 and piq.relevance_rank > 2 * piq.area_share
    assert piq.control_relevance_rank < piq.relevance_rank


def test_overlap_mask_prefers_the_source_over_the_noise(demo_run):
    """The issue's overlap test: more PIQ mask mass on the target's planted region than on the noise's."""
    workdir, _ = demo_run
    overlap = read_csv(workdir / OUT / "overlap.csv")
    assert len(overlap) == 48
    assert overlap.mask_in_source_region.mean() > overlap.mask_in_noise_region.mean()


def test_classifiers_learn_the_synthetic_classes(demo_run):
    workdir, _ = demo_run
    acc = read_csv(workdir / OUT / "accuracy_table.csv").set_index("arch")
    assert set(acc.index) == {"conv2d", "cnn14", "focalnet", "vit"}
    assert (acc.n_test == 48).all() and acc.loc["conv2d", "test_accuracy"] >= 75
    assert (acc.loc[["conv2d", "cnn14"], "randomised_test_accuracy"] < 50).all()
    assert (acc.published_test_accuracy.to_dict()) == {"conv2d": 75.0, "cnn14": 82.0, "focalnet": 77.4, "vit": 73.6}


def test_every_demo_claim_passes_beside_its_control(demo_run):
    """Each claim passes its one-sided 1 % test and its negative control fails the same test."""
    workdir, _ = demo_run
    frame = read_csv(workdir / OUT / "claims.csv", required=COLUMNS)
    assert failed_claims(frame) == [] and broken_invariants(frame) == []
    rows = claims_only(frame)
    assert len(rows) == 5 and rows.control.fillna("").str.len().gt(0).all(), frame.to_string()
    fidelity = rows[rows.claim.str.contains("fidelity-to-input above chance")]
    assert list(fidelity.claim) == ["piq (conv2d) fidelity-to-input above chance"]  # L2I: table only


def test_interpretation_audio_is_written_per_test_clip(demo_run):
    workdir, _ = demo_run
    clips = read_csv(workdir / OUT / "interpretations/piq_conv2d.csv")
    wavs = sorted((workdir / OUT / "audio/piq_conv2d").glob("*.wav"))
    assert [w.name for w in wavs] == sorted(clips.filename)
    audio, rate = sf.read(wavs[0])
    assert rate == 16000 and audio.shape == (80000,) and np.abs(audio).max() > 0


def test_figures_show_something(demo_run):
    workdir, _ = demo_run
    for name in ("fig_overlap.png", "fig_clips_piq_conv2d.png"):
        pixels = image.imread(workdir / OUT / name)
        assert pixels.shape[0] > 300 and pixels.std() > 0.05, name


def test_overlap_figure_marks_the_planted_regions_of_source_and_noise(demo_run):
    """The caption's dashed boxes: the figure's arrays carry each clip's planted box
    (meta/planted.csv), and the mask panel of every row is drawn with both."""
    import matplotlib.pyplot as plt

    from xairepro.common.io import load_arrays
    from xairepro.esc50.figures import draw_overlap

    workdir, _ = demo_run
    arrays = load_arrays(workdir / OUT / "overlap.npz")
    planted = read_csv(workdir / "data/demo/esc50/meta/planted.csv").set_index("filename")
    pairs = read_csv(workdir / OUT / "overlap.csv").set_index("source")
    for name, noise, source_box, noise_box in zip(arrays["names"], arrays["noise_names"], arrays["source_boxes"],
                                                  arrays["noise_boxes"]):
        assert pairs.loc[name, "noise"] == noise
        assert list(source_box) == list(planted.loc[name, ["t0", "t1", "f0", "f1"]])
        assert list(noise_box) == list(planted.loc[noise, ["t0", "t1", "f0", "f1"]])
    fig = draw_overlap(arrays)
    image_axes = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]
    mask_panels = image_axes[3::5]
    assert len(mask_panels) == len(arrays["names"]) == 4
    for ax, source_box in zip(mask_panels, arrays["source_boxes"]):
        dashed = [p for p in ax.patches if p.get_linestyle() == "--"]
        assert len(dashed) == 2
        assert (dashed[0].get_x(), dashed[0].get_y() * 1000) == pytest.approx((source_box[0], source_box[2]))
    plt.close(fig)


@pytest.mark.parametrize("method", ["piq", "l2i"])
def test_clip_figures_have_axes_colourbars_and_no_unlabelled_flat_panel(demo_run, method):
    import matplotlib.pyplot as plt
    import numpy as np

    from xairepro.common.io import load_arrays
    from xairepro.esc50.figures import FLAT, draw_clips

    workdir, _ = demo_run
    arrays = load_arrays(workdir / OUT / f"interpretations/{method}_conv2d.npz")
    fig = draw_clips(arrays, f"{method} / conv2d")
    axes = np.array([ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]).reshape(4, 4)
    assert sorted(arrays["targets"][[int(np.flatnonzero(arrays["names"] == ax.get_title().split(" ")[0])[0])
                                     for ax in axes[:, 0]]]) == [0, 1, 2, 3]  # one clip per class
    assert [ax.get_xlabel() for ax in axes[-1]] == ["time (s)"] * 4
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["frequency (kHz)"] * 4
    for ax in axes.flat:
        image = ax.images[0]
        assert image.colorbar is not None and image.colorbar.ax.get_ylabel()
        values = image.get_array()
        low, high = image.get_clim()
        if values.max() - values.min() < FLAT * (high - low):
            assert "flat" in ax.get_title()
    plt.close(fig)


def test_report_has_the_esc50_claims_and_figures_with_their_captions(demo_report):
    html = demo_report.read_text(errors="replace")
    for name in ("claims.csv", "fig_overlap.png", "fig_clips_piq_conv2d.png", "fig_clips_l2i_conv2d.png"):
        assert f"results/demo/esc50/{name}" in html, name
    assert "The esc50 claims" in html  # report/esc50/claims.rst
    assert "dashed boxes mark the planted regions" in html  # report/esc50/fig_overlap.rst
    assert "time bands over the whole spectrum" in html  # the L2I sentence of report/esc50/fig_clips.rst


def _dry_run_inputs(output: str, rule: str) -> list[list[str]]:
    """The input files of each job of ``rule`` in a dry run's printout."""
    jobs, current = [], None
    for line in output.splitlines():
        if line.startswith(("rule ", "localrule ")):
            current = line.split()[1].rstrip(":")
        elif current == rule and line.strip().startswith("input:"):
            jobs.append([p.strip() for p in line.split(":", 1)[1].split(",")])
    return jobs


def test_every_rule_that_reads_the_clips_reruns_for_an_edited_clip(tmp_path):
    """The audio folder is a directory(): Snakemake dates it by its own mtime, which an edited
    clip leaves alone, so the rules reading clips also list each clip edited since the folder
    was written (files_under)."""
    workdir = copy_workflow(tmp_path / "clips")
    snakemake(workdir, "--cores", "1", "data/demo/esc50/meta/esc50.csv")
    clips = sorted((workdir / "data/demo/esc50/audio").glob("*.wav"))
    targets = [f"{OUT}/{name}" for name in ("piq/conv2d.pt", "nmf/conv2d.pt", "l2i/conv2d.pt", "overlap.csv",
                                            "interpretations/piq_conv2d.csv", "classifier/conv2d.pt")]
    rules = ("esc50_train_piq", "esc50_train_nmf", "esc50_train_l2i", "esc50_compute_overlap",
             "esc50_compute_interpretations", "esc50_train_classifier")
    dry = snakemake(workdir, "-n", *targets).stdout
    for rule in rules:  # as written: the folder only
        assert all(not any(i.endswith(".wav") for i in inputs) for inputs in _dry_run_inputs(dry, rule)), rule
    edited = clips[3]
    stamp = (workdir / "data/demo/esc50/audio/.snakemake_timestamp").stat().st_mtime
    os.utime(edited, (stamp + 5, stamp + 5))
    dry = snakemake(workdir, "-n", *targets).stdout
    for rule in rules:
        jobs = _dry_run_inputs(dry, rule)
        assert jobs, rule
        for inputs in jobs:
            assert "data/demo/esc50/audio" in inputs and str(edited.relative_to(workdir)) in inputs, rule
            assert not set(str(c.relative_to(workdir)) for c in clips if c != edited) & set(inputs), rule


#: The PIQ chain on 12 clips (4 test) with 2 epochs of the classifier and of PIQ: the size
#: of the determinism and resume tests, which run it from scratch (the demo's would take
#: minutes per run).
SMALL = """\
esc50:
  data: {demo: {clips_per_fold: [2, 2, 2, 2, 4]}}
  classify: {demo: {conv2d: {number_of_epochs: 2}}}
  piq: {demo: {number_of_epochs: 2}}
"""
PIQ_CHAIN = [f"{OUT}/interpretations/piq_conv2d.csv", f"{OUT}/overlap.csv", f"{OUT}/classifier/conv2d.json",
             f"{OUT}/piq/conv2d.json"]


def small_chain(workdir):
    """The PIQ chain on the small config from scratch in a fresh copy at ``workdir``."""
    workdir = copy_workflow(workdir)
    (workdir / "small.yaml").write_text(SMALL)
    snakemake(workdir, "--cores", "2", "--configfile", "small.yaml", "--", *PIQ_CHAIN)
    return workdir


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    return small_chain(tmp_path_factory.mktemp("esc50_first"))


def without_commit(path):
    return b"".join(line for line in path.read_bytes().splitlines(keepends=True) if not line.startswith(b"# git_commit"))


@pytest.mark.determinism
def test_esc50_chain_is_deterministic(small_run, tmp_path):
    """A second from-scratch run of the PIQ chain gives byte-identical tables (minus the commit stamp)."""
    again = small_chain(tmp_path / "again")
    for target in PIQ_CHAIN[:3]:
        assert without_commit(again / target) == without_commit(small_run / target), target
    first, second = (json.loads((run / PIQ_CHAIN[3]).read_text()) for run in (small_run, again))
    assert first["history"] == second["history"]


def test_killed_piq_training_resumes_and_matches_the_uninterrupted_run(small_run):
    workdir = small_run
    target = PIQ_CHAIN[3]
    reference = json.loads((workdir / target).read_text())
    killed = snakemake(workdir, "--configfile", "small.yaml", "--cores", "1", "--forcerun", "esc50_train_piq",
                       "--", target, env={"XAIREPRO_FAULT_AFTER_EPOCH": "1"}, check=False)
    assert killed.returncode != 0
    assert "Error in rule esc50_train_piq" in killed.stdout
    assert not (workdir / target).exists() and not (workdir / target.replace(".json", ".pt")).exists()
    assert (workdir / f"{OUT}/checkpoints/piq/conv2d.pt").exists()
    snakemake(workdir, "--configfile", "small.yaml", "--cores", "1", "--", target)
    assert "resuming from" in (workdir / "logs/demo/esc50/train_piq/conv2d.log").read_text()
    assert_resumed_like(json.loads((workdir / target).read_text()), reference, 1, ())


def test_paper_scale_esc50_dag_builds(fresh_workflow):
    from .conftest import jobs_of

    jobs = jobs_of(snakemake(fresh_workflow, "-n", "--config", "scale=paper", "--", "esc50").stdout)
    assert jobs["esc50_download_data"] == 1 and "esc50_generate_data" not in jobs
    assert jobs["esc50_train_classifier"] == 4  # conv2d, CNN14, FocalNet, ViT
    assert jobs["esc50_train_piq"] == 3 and jobs["esc50_train_l2i"] == 2 and jobs["esc50_train_nmf"] == 2
    assert jobs["esc50_compute_interpretations"] == 7  # PIQ x 3, L2I x 2, AMT x 2


def test_one_esc50_figure_builds_only_its_chain(fresh_workflow):
    from .conftest import jobs_of

    jobs = jobs_of(snakemake(fresh_workflow, "-n", "results/demo/esc50/fig_overlap.png").stdout)
    assert jobs == {"esc50_generate_data": 1, "esc50_train_classifier": 1, "esc50_train_piq": 1,
                    "esc50_compute_overlap": 1, "esc50_plot_overlap": 1}


def test_truncated_wav_stops_training_naming_the_file(tmp_path):
    workdir = copy_workflow(tmp_path / "bad")
    snakemake(workdir, "--cores", "1", "data/demo/esc50/meta/esc50.csv")
    victim = sorted((workdir / "data/demo/esc50/audio").glob("1-*.wav"))[0]
    victim.write_bytes(victim.read_bytes()[:5000])
    target = f"{OUT}/classifier/conv2d.json"
    proc = snakemake(workdir, "--cores", "1", target, check=False)
    assert proc.returncode != 0
    assert f"{victim.name}: is truncated" in proc.stdout
    assert not (workdir / target).exists() and not (workdir / target.replace(".json", ".pt")).exists()
