"""The labelfree figures say what they show: coinciding curves named, the demo scale noted."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from xairepro.labelfree.figures import (  # noqa: E402
    coincidence_text,
    plot_consistency_examples,
    plot_consistency_features,
    plot_disvae,
    plot_encoder_vs_full,
)
from xairepro.metrics.curves import coinciding_groups  # noqa: E402

FRACTIONS = [0, 0.05, 0.1, 0.2, 0.5, 0.8, 1.0]
NOTE = "Demo scale: test data; 1 epoch, 1 run, 5 test items; FACT's values marked for reference only."


def texts(fig, gid):
    return [t.get_text() for t in fig.texts if t.get_gid() == gid]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_coinciding_groups_joins_curves_within_the_tolerance_only():
    base = np.linspace(0, 1, 7)
    curves = {"a": base, "b": base + 0.015, "c": base ** 2, "d": base - 0.015, "e": 1 - base}
    # a-b and a-d are 0.015 apart (within 2 % of a span of 1); b-d (0.03) joins through a
    assert coinciding_groups(curves, rtol=0.02, span=1.0) == [["a", "b", "d"]]
    assert coinciding_groups(curves, rtol=0.01, span=1.0) == []


def test_coinciding_groups_needs_every_point_close_and_the_same_grid():
    base = np.linspace(0, 1, 7)
    apart_once = base.copy()
    apart_once[3] += 0.1
    assert coinciding_groups({"a": base, "b": apart_once}, span=1.0) == []
    assert coinciding_groups({"a": base, "b": base[:-1]}, span=1.0) == []
    assert coinciding_groups({"a": base, "b": base.copy(), "c": base.copy()}) == [["a", "b", "c"]]


def test_coincidence_text_names_every_member():
    assert coincidence_text(["A", "B", "C"]).startswith("A, B and C coincide")
    assert coincidence_text(["A", "B"], which="dashed").startswith("dashed: A and B coincide")


def shifts_table(curves: dict[str, np.ndarray], seeds=(0, 1)) -> pd.DataFrame:
    rows = [{"seed": seed, "method": method, "fraction": f, "item": item,
             "representation_shift": float(y[i]) * (1 + 0.01 * seed)}
            for method, y in curves.items() for seed in seeds for item in range(2) for i, f in enumerate(FRACTIONS)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("coincide", [True, False], ids=["coincide", "apart"])
def test_feature_figure_names_the_coinciding_methods_exactly_when_they_coincide(coincide):
    x = np.asarray(FRACTIONS)
    top = np.minimum(1.0, 5 * x)
    curves = {"integrated_gradients": top, "gradient_shap": top if coincide else np.minimum(1.0, 2 * x),
              "saliency": top if coincide else x ** 0.5 * 0.8, "random": x}
    fig = plot_consistency_features(shifts_table(curves), "ECG5000", features="time steps")
    notes = texts(fig, "coincidence")
    if coincide:
        assert len(notes) == 1 and notes[0].startswith("Integrated Gradients, Gradient SHAP and Saliency coincide")
    else:
        assert notes == []
    assert texts(fig, "scale_note") == []
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time steps masked (%)" and "representation shift" in ax.get_ylabel()


FIGURES = {
    "features": lambda note: plot_consistency_features(
        shifts_table({"integrated_gradients": np.asarray(FRACTIONS), "random": np.asarray(FRACTIONS) ** 2}),
        "MNIST", note=note),
    "examples": lambda note: plot_consistency_examples(pd.DataFrame(
        [{"seed": 0, "explainer": explainer, "examples": kind, "fraction": f, "similarity_rate": rate * scale * (1 + f)}
         for explainer, rate in (("dknn", 0.5), ("tracin", 0.2))
         for kind, scale in (("most important", 1.0), ("least important", 0.1)) for f in (0.1, 0.5, 1.0)]),
        "MNIST", note=note),
    "encoder_vs_full": lambda note: plot_encoder_vs_full(pd.DataFrame(
        {"method": ["saliency"] * 5, "pearson": np.linspace(0.5, 0.9, 5)}), "MNIST", note=note),
    "disvae": lambda note: plot_disvae(pd.DataFrame(
        [{"dataset": "dsprites", "loss": loss, "beta": beta, "correlation": c}
         for loss in ("beta_vae", "beta_tcvae") for beta in (1, 5) for c in (0.6, 0.7, 0.65)]), note=note),
}


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_carries_the_scale_note_it_is_given_and_labels_its_axes(name):
    fig = FIGURES[name](NOTE)
    assert [t.replace("\n", " ") for t in texts(fig, "scale_note")] == [NOTE]
    assert texts(FIGURES[name](""), "scale_note") == []
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_ylabel()
    assert ax.get_xlabel() or ax.get_xticklabels()


def test_disentanglement_figure_marks_facts_means_and_names_the_data_set():
    fig = FIGURES["disvae"](NOTE)
    ax = fig.axes[0]
    assert ax.get_title().startswith("dSprites")
    assert "FACT's mean (pooled)" in [t.get_text() for t in ax.get_legend().get_texts()]
    published = [line for line in ax.get_lines() if line.get_marker() == "D" and len(line.get_xdata())]
    assert published and np.isfinite(np.concatenate([line.get_ydata() for line in published])).any()
    # without a pooled column, no run markers and no legend entry for them
    assert not [line for line in ax.get_lines() if line.get_marker() == "o" and len(line.get_xdata())]


def test_disentanglement_figure_marks_each_runs_pooled_value_beside_its_box():
    rows = [{"dataset": "mnist", "loss": "beta_vae", "beta": beta, "seed": seed, "model": model, "image": i,
             "correlation": 0.5, "pooled": pooled}
            for beta, by_seed in ((1, {1: 0.2, 2: 0.3}), (5, {1: 0.4, 2: 0.45}))
            for seed, pooled in by_seed.items() for model in ("trained", "random_attribution") for i in range(3)]
    ax = plot_disvae(pd.DataFrame(rows)).axes[0]
    runs = [line for line in ax.get_lines() if line.get_marker() == "o" and len(line.get_xdata())]
    assert [sorted(line.get_ydata()) for line in runs] == [[0.2, 0.3], [0.4, 0.45]]  # the trained models' only
    assert "one run, pooled over images" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_example_figure_names_coinciding_explainers_per_line_style():
    rows = [{"seed": 0, "explainer": explainer, "examples": kind, "fraction": f,
             "similarity_rate": (rate if kind == "most important" else 0.05) * (1 + f)}
            for explainer, rate in (("tracin", 0.2), ("dknn", 0.5))
            for kind in ("most important", "least important") for f in (0.1, 0.5, 1.0)]
    fig = plot_consistency_examples(pd.DataFrame(rows), "MNIST")
    notes = texts(fig, "coincidence")
    assert len(notes) == 1 and notes[0].startswith("dashed (least important): TracIn and DKNN coincide")
