"""What a reader of the interactive figures relies on, on small synthetic inputs: an all-zero
heatmap is drawn as zero and labelled, every heatmap column is headed by its method and the
maps have a colourbar; canvas pages hold a few rows each, with 10 pt text, step headings,
score bars in the original's colours and a colourbar."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from xairepro.interactive.figures import (FONT_PT, TITLES, all_zero, canvas_pages, heatmap_figure,  # noqa: E402
                                          plot_canvases, plot_heatmaps, score_cmap)

METHODS = ("integrated_gradients", "saliency_smoothgrad_sq", "guided_backprop", "guided_gradcam")


def heatmap_arrays(n=2, size=16, seed=0):
    """The attribution cache of n images; Guided GradCAM of image 0 (scored negative) is all zero."""
    rng = np.random.default_rng(seed)
    arrays = {"images": rng.integers(0, 255, (n, size, size, 3), dtype=np.uint8), "labels": np.arange(n) % 2,
              "logits": np.linspace(-3.0, 3.0, n), "methods": np.array(METHODS)}
    for m in METHODS:
        raw = rng.normal(size=(n, 3, size, size)).astype(np.float32)
        if m == "guided_gradcam":
            raw[0] = 0.0
        arrays[f"raw_{m}"] = raw
        arrays[f"map_{m}"] = np.clip(raw.sum(1) / 3, -1, 1)
    arrays["map_guided_gradcam"][0] = 1.0  # a cache written before the fix: ones, as the original
    return arrays


def pixels(fig):
    """The rendered figure as uint8 RGB (H, W, 3)."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def panel(fig, image, ax, inset=0.06):
    """The pixels inside an axes, less a margin (its frame) and less any note drawn on it
    (masked to -1)."""
    image = image.astype(int)
    h = image.shape[0]
    for note in ax.texts:  # the note's box, in display pixels (origin bottom left)
        (nx0, ny0), (nx1, ny1) = (note.get_bbox_patch() or note).get_window_extent().get_points()
        image[int(h - ny1) - 3:int(h - ny0) + 3, int(nx0) - 3:int(nx1) + 3] = -1
    (x0, y0), (x1, y1) = ax.get_window_extent().get_points()
    dx, dy = inset * (x1 - x0), inset * (y1 - y0)
    return image[int(h - y1 + dy):int(h - y0 - dy), int(x0 + dx):int(x1 - dx)]


def rgb(cmap, value):
    return np.round(np.array(plt.get_cmap(cmap)(Normalize(-1, 1)(value))[:3]) * 255).astype(int)


def texts(ax):
    return [t.get_text() for t in ax.findobj(Text) if t.get_text()]


def test_all_zero_detects_the_originals_allclose():
    a = np.zeros((3, 3, 4, 4))
    a[1, 0, 0, 0] = 1e-3
    a[2] = 1e-12
    assert all_zero(a).tolist() == [True, False, True]


@pytest.mark.parametrize("as_ones, value", [(False, 0.0), (True, 1.0)], ids=["drawn-as-zero", "original-ones"])
def test_all_zero_heatmap_is_drawn_as_zero_and_labelled(as_ones, value):
    fig = heatmap_figure(heatmap_arrays(), "celeb-Smiling", cmap="seismic", interp="nearest",
                         zero_maps_as_ones=as_ones)
    image = pixels(fig)
    grid = np.array([ax for ax in fig.axes if ax.get_label() != "<colorbar>"]).reshape(2, 5)
    zero_panel, other_panel = grid[0, 4], grid[1, 4]
    inside = panel(fig, image, zero_panel).reshape(-1, 3)
    inside = inside[(inside >= 0).all(axis=1)]
    # every pixel outside the note has the colormap's colour of 0 (of +1: the original's drawing)
    assert len(inside) > 1000 and np.all(np.abs(inside - rgb("seismic", value)) <= 1)
    note = " ".join(texts(zero_panel))
    assert "all zero" in note and "ReLU" in note and ("+1" in note) == as_ones
    assert not any("all zero" in t for ax in grid.flat if ax is not zero_panel for t in texts(ax))
    assert np.mean(np.all(panel(fig, image, other_panel).reshape(-1, 3) == rgb("seismic", 0.0), axis=1)) < 0.2
    plt.close(fig)


def test_heatmap_figure_names_its_attribute_methods_and_scale():
    fig = heatmap_figure(heatmap_arrays(n=3), "celeb-Heavy_Makeup")
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 1 and bars[0].get_ylim() == (-1.0, 1.0) and "threshold" in bars[0].get_ylabel()
    assert "Heavy_Makeup" in fig._suptitle.get_text()
    maps = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    headings = [ax.get_title() for ax in maps[:5]]
    assert headings == ["image"] + [TITLES[m] for m in METHODS]
    assert "SmoothGrad" in headings[2] and headings[2] != "Saliency"
    assert all(ax.get_ylabel().startswith("label y=") for ax in maps[::5])
    plt.close(fig)
    flowers = heatmap_figure(heatmap_arrays(), "flowers102_c49-c65")
    assert "class 65 vs 49" in flowers._suptitle.get_text() and "towards class 65" in flowers._suptitle.get_text()
    plt.close(flowers)


def test_plot_heatmaps_writes_the_figure(tmp_path):
    np.savez(tmp_path / "h.npz", **heatmap_arrays())
    plot_heatmaps(tmp_path / "h.npz", tmp_path / "fig.png", classifier="celeb-Smiling", dpi=50)
    assert plt.imread(tmp_path / "fig.png").shape[1] > 5 * 1.6 * 50


def canvas_arrays(n_dir=2, n_img=5, steps=3, size=8):
    rng = np.random.default_rng(1)
    return {"frames": rng.integers(0, 255, (n_dir, n_img, steps, size, size, 3), dtype=np.uint8),
            "eval_logits": np.tile(np.linspace(-8.0, 8.0, steps), (n_dir, n_img, 1)),
            "grid": np.linspace(-0.4, 0.4, steps), "directions": np.array(["Smiling", "Male"][:n_dir]),
            "names": np.array([f"{i}.jpg" for i in range(n_img)]), "eval_attr": np.array("Smiling"),
            "inputs": rng.integers(0, 255, (n_img, size, size, 3), dtype=np.uint8)}


def images_of(fig, ndim):
    """The axes of a page that show an image of ``ndim`` dimensions (3: faces, 2: score bars)."""
    return [ax for ax in fig.axes if ax.images and ax.images[0].get_array().ndim == ndim]


def test_canvas_pages_hold_a_few_readable_rows_each():
    pages = canvas_pages(canvas_arrays(), hw=40, rows_per_page=2, dpi=50)
    assert [name for name, _ in pages] == [f"move_{d}_{k}" for d in ("Smiling", "Male") for k in (1, 2, 3)]
    for (name, fig), rows in zip(pages, [2, 2, 1] * 2):
        assert len(images_of(fig, 2)) == rows and len(images_of(fig, 3)) == 2 * rows, name  # bars; input + frames
        sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text().strip()]
        assert min(sizes) >= FONT_PT, name
        bars = [ax for ax in fig.axes if ax.get_label() == "colourbar"]
        assert len(bars) == 1 and bars[0].get_xlim() == (-1.0, 1.0) and "tanh(0.25" in bars[0].get_xlabel(), name
        headings = [t.get_text() for t in fig.findobj(Text)]
        assert "step 1\ng = -0.40" in headings and "step 3\ng = +0.40" in headings and "input" in headings, name
        # at most 2 rows of a 40 px frame under a 15 px bar, 6 px apart, plus title and colourbar
        assert fig.get_size_inches()[1] * 50 <= rows * (40 + 15 + 6) + 2.35 * 50 + 1, name
        plt.close(fig)


def test_canvas_score_bars_have_the_originals_colours():
    (_, fig), *rest = canvas_pages(canvas_arrays(n_dir=1, n_img=1), hw=40, rows_per_page=1, dpi=50)
    image = pixels(fig)
    (bar,) = images_of(fig, 2)
    assert rest == []
    strip = panel(fig, image, bar, inset=0.0)  # the three bars side by side, the values masked
    corner = [strip[strip.shape[0] // 4, int(k * strip.shape[1] / 3) + 5] for k in range(3)]
    low, mid, high = (np.round(np.array(score_cmap()(Normalize(-1, 1)(np.tanh(0.25 * v)))[:3]) * 255)
                      for v in (-8.0, 0.0, 8.0))
    assert np.abs(corner[0] - low).max() <= 2 and corner[0][0] > 200 and corner[0][1] == 0  # red
    assert np.abs(corner[1] - mid).max() <= 2 and corner[1].max() <= 2  # black at 0
    assert np.abs(corner[2] - high).max() <= 2 and corner[2][1] > 200 and corner[2][0] == 0  # green
    assert [t.get_text() for t in bar.texts if "step" not in t.get_text()] == ["-0.96", "+0.00", "+0.96"]
    plt.close(fig)


def test_plot_canvases_writes_one_page_per_direction(tmp_path):
    np.savez(tmp_path / "f.npz", **canvas_arrays(n_img=3))
    written = plot_canvases(tmp_path / "f.npz", tmp_path / "pages", hw=32, rows_per_page=6, dpi=50)
    assert sorted(p.name for p in written) == ["move_Male.png", "move_Smiling.png"]
    assert sorted(p.name for p in (tmp_path / "pages").iterdir()) == ["move_Male.png", "move_Smiling.png"]
