"""The pianist figures say what they show: outlines, colourbars, one colour scale per panel."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
from matplotlib import colors

from xairepro.pianist.figures import OUTLINE, grid_size, plot_kernel_heatmap, plot_lime_roll, plot_sign_counts

KERNEL = {"semitones": 24, "seconds": 1.5, "stride_semitones": 4, "stride_seconds": 0.5}


def _roll() -> np.ndarray:
    roll = np.zeros((88, 60), np.float32)
    roll[30:50:3, 5:50] = 0.7
    return roll


def _red_pixels(fig) -> int:
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    target = (np.array(colors.to_rgb(OUTLINE)) * 255).astype(int)
    return int((np.abs(rgb - target).sum(-1) < 40).sum())


def test_lime_figure_outlines_the_mask_in_red_with_a_velocity_colourbar():
    mask = np.zeros((88, 60), bool)
    mask[30:45, 10:30] = True
    fig = plot_lime_roll(_roll(), mask, fps=10, clip_start=0.0, title="t", width=6, height=4)
    empty = plot_lime_roll(_roll(), np.zeros_like(mask), fps=10, clip_start=0.0, title="t", width=6, height=4)
    assert _red_pixels(fig) > 200 and _red_pixels(empty) == 0
    assert "no superpixel" in empty.axes[0].get_legend().get_texts()[0].get_text()
    assert "velocity" in fig.axes[1].get_ylabel()  # the colourbar
    assert fig.axes[0].get_xlabel() and fig.axes[0].get_ylabel()


def test_kernel_heatmap_panels_have_their_own_scale_and_a_constant_map_is_labelled():
    pitches, times = np.arange(21, 86, 4), np.arange(0, 4.6, 0.5)
    rng = np.random.default_rng(0)
    maps = rng.normal(0, 0.1, (3, len(pitches), len(times))).astype(np.float32)
    maps[0] *= 2000                                   # s near 0: a huge ratio in one panel
    maps[2] = 0.0                                     # s = 0: no map
    fig = plot_kernel_heatmap(_roll(), maps, ["a", "b", "c"], pitches, times, KERNEL, fps=10, clip_start=0.0,
                              title="t", width=6, height=4.5, s_orig=np.array([1e-5, 0.02, 0.0]))
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title().split(" ")[0] for ax in panels] == ["a", "b", "c"]
    meshes = [ax.collections[0] for ax in panels[:2]]
    for mesh, heat in zip(meshes, maps[:2]):
        assert mesh.norm.vmax == np.abs(heat).max() and mesh.norm.vmin == -mesh.norm.vmax
    assert not panels[2].collections and "constant" in panels[2].get_title()
    colourbars = [ax for ax in fig.axes if ax.get_ylabel() == "(s - s_masked) / s"]
    assert len(colourbars) == 2
    assert fig.get_size_inches()[0] >= 3 * 3.0        # panels at least 3 in wide
    fig.canvas.draw()
    labels = [t.get_text() for t in panels[0].get_xticklabels() if t.get_text()]
    assert 2 <= len(labels) <= 5                      # no '00:0500:00' collisions


def test_sign_count_heatmap_grows_with_the_paper_grid_and_keeps_the_demo_size():
    assert grid_size(6.0, 4.5, 4, 8) == (6.0, 4.5)  # the demo's 4 performers x 8 concepts
    summary = pd.DataFrame([{"performer": f"pianist {p}", "concept": f"concept {c}", "sign_count": (p * c % 7) / 7,
                             "stars": "***"} for p in range(20) for c in range(20)])
    fig = plot_sign_counts(summary, width=6.0, height=4.5)
    width, height = fig.get_size_inches()
    assert width / 20 >= 0.6 and height / 20 >= 0.4  # room for "0.50***" in each of the 20 x 20 cells
