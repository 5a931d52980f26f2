"""The lossgrad figures say what they show: the head, colour bars, coinciding lines, the scale."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from xairepro.lossgrad.figures import (  # noqa: E402
    plot_examples,
    plot_roar,
    plot_svd_roar,
)
from xairepro.metrics.curves import coinciding_groups  # noqa: E402

METHODS = ["abs_grad", "grad_orig", "grad_inp", "random"]
NOTE = "Demo scale: test data; narrowed networks, 1 epoch, one model; not comparable with the paper's figure."


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(fig, gid):
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_gid() == gid]


def digits(n=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 28, 28, generator=generator)
    grads = torch.randn(n, 1, 28, 28, generator=generator) * 1e-3
    return x, grads, torch.tensor([0, 1, 1][:n])


def test_examples_figure_names_its_head_loss_and_labels_and_has_colour_bars():
    x, grads, labels = digits()
    fig = plot_examples(x, grads, methods=["abs_grad", "random"], orders=[1, 0], k=100, replacement="mean",
                        n_examples=3, labels=labels, classifier_type="sigmoid", num_classes=2, model_seed=4)
    title = fig._suptitle.get_text()
    assert "Head: sigmoid, 0 vs 1, model seed 4" in title and "binary cross-entropy" in title
    assert "100 of 784 pixels occluded" in title
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 3 * (2 + 2 * 2)
    assert [ax.get_ylabel() for ax in images if ax.get_ylabel()] == ["true label 0", "true label 1", "true label 1"]
    bars = [ax for ax in fig.axes if not ax.images and ax.get_label() == "<colorbar>"]
    # one colour bar per gradient panel (its own range), one shared by the grey images
    assert len(bars) == 3 + 1
    assert "pixel value" in bars[-1].get_ylabel()
    assert texts(fig, "constant") == []


def test_a_flat_examples_panel_is_labelled_constant():
    x, grads, labels = digits(n=2)
    fig = plot_examples(x, torch.zeros_like(grads), methods=["abs_grad"], orders=[1], k=10, replacement="mean",
                        n_examples=2, labels=labels)
    assert texts(fig, "constant") == ["constant\n0", "constant\n0"]
    for ax in fig.axes:
        for image in ax.images:
            if np.ptp(image.get_array()) == 0:
                assert any(t.get_gid() == "constant" for t in ax.texts)


def test_coinciding_methods_groups_lines_within_the_tolerance():
    k = np.arange(7)
    curves = {"abs_grad": k / 6, "grad_orig": np.ones(7), "grad_inp": np.ones(7) - 0.01, "random": 1 - k / 6}
    assert coinciding_groups(curves, span=1.06) == [["grad_orig", "grad_inp"]]
    assert coinciding_groups(curves, span=0.3) == []


def roar_table(coincide: bool) -> pd.DataFrame:
    rows = []
    for seed in (0, 1):
        for method in METHODS:
            for k in (0, 78, 235, 784):
                accuracy = 0.95 if k == 0 else {"abs_grad": 0.3, "grad_orig": 0.9,
                                                "grad_inp": 0.9 if coincide else 0.5, "random": 0.7}[method]
                rows.append({"variant": "softmax10", "seed": seed, "method": method, "replacement": "mean",
                             "order": 1, "k": k, "accuracy": accuracy})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("coincide", [True, False], ids=["coincide", "apart"])
def test_roar_figure_names_coinciding_lines_exactly_when_they_coincide(coincide):
    fig = plot_roar(roar_table(coincide))
    assert texts(fig, "coincidence") == (["g = g*x (coincide)"] if coincide else [])
    ax = fig.axes[0]
    assert "test accuracy" in ax.get_ylabel() and "occluded pixels" in ax.get_xlabel()
    assert ax.get_title().startswith("replacement = mean")


def svd_table() -> pd.DataFrame:
    rows = []
    for method in METHODS:
        for k, fraction in ((0, 0.0), (920, 0.1), (4600, 0.5)):
            drop = {"abs_grad": 0.5, "grad_orig": 0.1, "grad_inp": 0.3, "random": 0.0}[method] * fraction
            rows.append({"method": method, "replacement": "mean", "order": 1, "k": k, "fraction": fraction,
                         "auroc": 0.99 - drop, "error": 0.02 + drop})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("plot", [lambda note: plot_roar(roar_table(False), note=note),
                                  lambda note: plot_svd_roar(svd_table(), note=note)], ids=["mnist", "svd"])
def test_occlusion_figures_carry_the_scale_note_they_are_given(plot):
    assert [t.replace("\n", " ") for t in texts(plot(NOTE), "scale_note")] == [NOTE]
    assert texts(plot(""), "scale_note") == []


def test_svd_figure_labels_both_metrics_and_the_bins():
    fig = plot_svd_roar(svd_table())
    axes = [ax for ax in fig.axes if ax.get_ylabel()]
    assert [ax.get_ylabel() for ax in axes] == ["test AUROC", "test error"]
    assert fig.axes[-1].get_xlabel() == "occluded bins k (of 9200)"
    assert texts(fig, "coincidence") == []


def test_coincidence_note_does_not_hide_a_line_between_its_markers():
    # the paper smoke's panel: every corner holds a marker or a segment (the earlier
    # marker-counting rule hid |g|'s segment from k=392 to 705 in the bottom-right one);
    # the middle left is crossed only by the steep first drop of g and g*x
    k = np.array([0, 78, 235, 392, 548, 705, 782])
    accuracy = {"abs_grad": [0.98, 0.97, 0.95, 0.95, 0.93, 0.92, 0.55],
                "grad_orig": [0.98, 0.07, 0.1, 0.1, 0.1, 0.1, 0.1],
                "grad_inp": [0.98, 0.08, 0.1, 0.1, 0.1, 0.1, 0.1],
                "random": [0.98, 0.96, 0.9, 0.85, 0.78, 0.45, 0.1]}
    rows = [{"variant": "softmax10", "seed": 1, "method": m, "replacement": "image_min", "order": 0, "k": int(kk),
             "accuracy": a} for m, values in accuracy.items() for kk, a in zip(k, values)]
    fig = plot_roar(pd.DataFrame(rows), panel_width=4, panel_height=3.5)  # one panel with a free spot
    ax = fig.axes[0]
    [note] = [t for t in ax.texts if t.get_gid() == "coincidence"]
    box = note.get_window_extent(fig.canvas.get_renderer()).transformed(ax.transAxes.inverted())
    ylo, yhi = ax.get_ylim()
    xlo, xhi = ax.get_xlim()
    for method in ("abs_grad", "random"):
        values = accuracy[method]
        xs = (np.interp(np.linspace(0, 6, 241), np.arange(7), k) - xlo) / (xhi - xlo)
        ys = (np.interp(np.linspace(0, 6, 241), np.arange(7), values) - ylo) / (yhi - ylo)
        inside = (xs >= box.x0) & (xs <= box.x1) & (ys >= box.y0) & (ys <= box.y1)
        assert not inside.any()
