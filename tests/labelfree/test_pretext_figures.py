"""The pretext figures (the original's saliency and top-example plots): which images, which
training example, what layout."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from xairepro.labelfree.figures import class_balanced_items, plot_pretext_examples, plot_pretext_saliency

TASKS = ["reconstruction", "denoising", "inpainting", "classification"]


def test_class_balanced_items_take_each_class_in_turn():
    labels = np.array([1, 0, 1, 2, 0, 2, 1])
    # n-th item of class n % 3: first 0, first 1, first 2, second 0, second 1, ...
    assert class_balanced_items(labels, 5).tolist() == [1, 0, 3, 4, 2]
    # a class that runs out is skipped, not repeated
    assert class_balanced_items(np.array([0, 0, 0, 1]), 4).tolist() == [0, 3, 1, 2]


@pytest.fixture
def cache():
    rng = np.random.default_rng(0)
    images = rng.random((6, 3, 8, 8))
    labels = np.array([0, 1, 2, 0, 1, 2])
    subtrain = rng.random((5, 3, 8, 8))
    features = {t: rng.random((6, 3, 8, 8)) for t in TASKS}
    examples = {t: np.tile(np.eye(5)[k % 5], (6, 1)) for k, t in enumerate(TASKS)}  # task k ranks example k first
    return images, labels, subtrain, features, examples


def test_saliency_figure_is_items_by_tasks(cache):
    images, labels, _, features, _ = cache
    fig = plot_pretext_saliency(images, labels, features, np.array([0, 1, 2]), note="demo note")
    axes = fig.axes
    assert len(axes) == 3 * len(TASKS)
    assert [ax.get_title() for ax in axes[: len(TASKS)]] == [t.capitalize() for t in TASKS]
    assert axes[0].get_ylabel() == "label 0" and axes[len(TASKS)].get_ylabel() == "label 1"
    # the map is the channel mean of the task's attribution, over the image
    overlay = axes[1].get_images()[1].get_array()
    np.testing.assert_allclose(overlay, features["denoising"][0].mean(axis=0))
    assert [t.get_text() for t in fig.texts if t.get_gid() == "scale_note"] == ["demo note"]


def test_examples_figure_shows_each_tasks_top_training_example(cache):
    images, labels, subtrain, _, examples = cache
    fig = plot_pretext_examples(images, labels, subtrain, examples, np.array([2, 0]))
    axes = np.array(fig.axes).reshape(2, len(TASKS) + 1)
    assert axes[0, 0].get_title() == "Test image"
    np.testing.assert_allclose(axes[0, 0].get_images()[0].get_array(), np.transpose(images[2], (1, 2, 0)))
    for k, task in enumerate(TASKS, start=1):
        assert axes[0, k].get_title() == f"Top: {task}"
        shown = axes[1, k].get_images()[0].get_array()
        np.testing.assert_allclose(shown, np.transpose(subtrain[(k - 1) % 5], (1, 2, 0)))
