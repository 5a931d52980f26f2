"""The esc50 figures: real axes and colourbars, planted boxes where they were planted, no silent flat panels."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colorbar import Colorbar  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from xairepro.esc50.figures import draw_clips, draw_overlap, extent, one_per_class  # noqa: E402

SR = 2048  # small arrays: 43 frames x 65 bins span 0.5 s x 0.13 kHz
T, F = 43, 65


def _spectrogram(rng, box=None):
    """(T, F) noise floor plus a bright block on the frames/bins of ``box``."""
    x = 0.05 * rng.random((T, F))
    if box is not None:
        x[box] = 3.0
    return x


def _overlap_arrays(n=2, boxes=True):
    rng = np.random.default_rng(0)
    source_boxes = np.array([[0.1, 0.2, 20.0, 50.0], [0.25, 0.4, 60.0, 100.0]])[:n]
    noise_boxes = np.array([[0.3, 0.45, 80.0, 120.0], [0.05, 0.15, 10.0, 30.0]])[:n]
    if not boxes:
        source_boxes = noise_boxes = np.full((n, 4), np.nan)
    spec = np.stack([_spectrogram(rng, (slice(8, 17), slice(10, 25))) for _ in range(n)])
    return {"source": spec, "noise": spec, "mixture": spec, "masks": np.clip(spec / 3, 0, 1),
            "interpretations": spec, "names": np.array([f"s{i}.wav" for i in range(n)]),
            "noise_names": np.array([f"n{i}.wav" for i in range(n)]), "source_boxes": source_boxes,
            "noise_boxes": noise_boxes, "sample_rate": np.array(SR), "targets": np.array([0, 1])[:n],
            "noise_targets": np.array([1, 2])[:n], "predictions": np.array([0, 2])[:n]}


def _dashed_boxes(ax):
    """(x, y, width, height, colour) of the dashed rectangles drawn on ``ax``."""
    return [(*(round(v, 9) for v in (p.get_x(), p.get_y(), p.get_width(), p.get_height())),
             matplotlib.colors.to_hex(p.get_edgecolor()))
            for p in ax.patches if isinstance(p, Rectangle) and p.get_linestyle() == "--"]


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]


def test_extent_puts_frames_at_the_hop_and_bins_at_rate_over_n_fft():
    t0, t1, f0, f1 = extent((431, 513), 16000)
    assert (t0, f0) == (0, 0)
    assert t1 == pytest.approx(431 * 0.0116099) and f1 == pytest.approx(513 * 16000 / 1024 / 1000)


def test_overlap_figure_draws_each_planted_box_at_its_time_and_frequency():
    arrays = _overlap_arrays()
    fig = draw_overlap(arrays, n_clips=2)
    axes = np.array(_image_axes(fig)).reshape(2, 5)
    for i, row in enumerate(axes):
        t0, t1, f0, f1 = arrays["source_boxes"][i]
        source = (round(t0, 9), round(f0 / 1000, 9), round(t1 - t0, 9), round((f1 - f0) / 1000, 9), "#ffffff")
        t0, t1, f0, f1 = arrays["noise_boxes"][i]
        noise = (round(t0, 9), round(f0 / 1000, 9), round(t1 - t0, 9), round((f1 - f0) / 1000, 9), "#ff0000")
        assert _dashed_boxes(row[0]) == [source]  # the source panel: its own box
        assert _dashed_boxes(row[1]) == [noise]  # the noise panel: the noise's box
        for ax in row[2:]:  # mixture, mask, interpretation: both
            assert sorted(_dashed_boxes(ax)) == sorted([source, noise])
    assert "dashed" in fig._suptitle.get_text()
    plt.close(fig)


def test_overlap_figure_names_the_class_the_classifier_gave_each_mixture():
    arrays = _overlap_arrays()
    arrays["predictions"] = np.array([0, 2])  # row 0: the source's class; row 1: the noise's
    fig = draw_overlap(arrays, n_clips=2)
    mixtures = np.array(_image_axes(fig)).reshape(2, 5)[:, 2]
    assert [ax.get_title().splitlines()[-1] for ax in mixtures] == ["classified 0: the source's class",
                                                                   "classified 2: the noise's class"]
    arrays["predictions"] = np.array([3, 1])  # neither the source's (0) nor the noise's (1) in row 0
    titles = [ax.get_title() for ax in np.array(_image_axes(draw_overlap(arrays, n_clips=2))).reshape(2, 5)[:, 2]]
    assert titles[0].endswith("classified 3: neither clip's class") and titles[1].endswith("the source's class")
    legacy = {k: v for k, v in arrays.items() if k not in ("predictions", "targets", "noise_targets")}
    titles = [ax.get_title() for ax in np.array(_image_axes(draw_overlap(legacy, n_clips=2))).reshape(2, 5)[:, 2]]
    assert titles == ["0.8 source + 0.2 noise"] * 2
    plt.close("all")


def test_overlap_figure_without_planted_regions_draws_no_box_and_promises_none():
    fig = draw_overlap(_overlap_arrays(boxes=False), n_clips=2)
    assert all(_dashed_boxes(ax) == [] for ax in fig.axes)
    assert "dashed" not in fig._suptitle.get_text()
    plt.close(fig)


def _clip_arrays(targets=(0, 0, 1, 2, 3)):
    rng = np.random.default_rng(1)
    n = len(targets)
    X = np.stack([_spectrogram(rng, (slice(8, 17), slice(10, 25))) for _ in range(n)])
    masks = np.zeros_like(X)
    masks[:, 8:17, 10:25] = 0.2  # a faint mask on the event
    masks[:, ::2, ::2] += 0.003  # the decoder's near-zero stride pattern
    masks[-1] = 0.0  # one clip whose mask kept nothing
    return {"X": X, "masks": masks, "interpretations": masks * X, "targets": np.array(targets),
            "predictions": np.array(targets), "names": np.array([f"c{i}.wav" for i in range(n)]),
            "sample_rate": np.array(SR)}


def test_clip_figure_panels_have_time_and_frequency_axes_and_labelled_colourbars():
    fig = draw_clips(_clip_arrays(), "piq / conv2d", n_clips=4)
    axes = np.array(_image_axes(fig)).reshape(4, 4)
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 16 and all(bar.get_ylabel() for bar in bars)
    assert all(isinstance(ax.images[0].colorbar, Colorbar) for ax in axes.flat)
    assert [ax.get_xlabel() for ax in axes[-1]] == ["time (s)"] * 4
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["frequency (kHz)"] * 4
    for ax in axes.flat:
        assert ax.images[0].get_extent() == pytest.approx(extent((T, F), SR))
        assert len(ax.get_xticks()) > 1 and len(ax.get_yticks()) > 1
    plt.close(fig)


def test_clip_figure_shows_one_clip_per_class_first():
    assert list(one_per_class(np.array([0, 0, 1, 2, 3]), 4)) == [0, 2, 3, 4]
    assert list(one_per_class(np.array([0, 0, 1]), 4)) == [0, 2, 1]
    fig = draw_clips(_clip_arrays(), "piq / conv2d", n_clips=4)
    titles = [ax.get_title() for ax in np.array(_image_axes(fig)).reshape(4, 4)[:, 0]]
    assert [t.split(" ")[0] for t in titles] == ["c0.wav", "c2.wav", "c3.wav", "c4.wav"]
    plt.close(fig)


def test_masks_are_drawn_from_0_to_1_so_the_decoder_floor_stays_dark_and_a_faint_mask_shows():
    fig = draw_clips(_clip_arrays(), "piq / conv2d", n_clips=4)
    mask_panel = np.array(_image_axes(fig)).reshape(4, 4)[0, 3]
    image = mask_panel.images[0]
    assert image.get_clim() == (0, 1)
    assert image.norm(0.003) < 0.06  # the floor: near black (it was the checkerboard at its own 99th percentile)
    assert image.norm(0.2) > 0.4  # a faint mask: clearly visible
    plt.close(fig)


def test_a_panel_that_would_read_as_one_flat_colour_says_so_and_no_other_does():
    fig = draw_clips(_clip_arrays(), "piq / conv2d", n_clips=4)
    axes = np.array(_image_axes(fig)).reshape(4, 4)
    flat = [(r, c) for r in range(4) for c in range(4) if "flat" in axes[r, c].get_title()]
    assert flat == [(3, 2), (3, 3)]  # the last clip's empty mask and its empty interpretation
    assert "0 to 0" in axes[3, 3].get_title()
    plt.close(fig)
