"""Spearman beside Pearson in the pretext tables (the original computes both: FACT
experiments/mnist.py:437, 440; cifar100_from_mnist.py:482, 485), against closed forms."""

import numpy as np
import pandas as pd
import pytest

from xairepro.common.io import save_arrays
from xairepro.labelfree.steps import correlation_tables
from xairepro.labelfree.tables import latex_table

TASKS = ["reconstruction", "denoising", "inpainting"]


@pytest.fixture
def pooled(tmp_path):
    """Pooled rows of three tasks whose maps are x, exp(x) (same ranks, other values) and -x."""
    x = np.array([0.1, 0.4, 0.2, 0.9, 0.5, 0.3, 0.8, 0.7]).reshape(2, 1, 2, 2)
    examples = np.array([[1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 1.0, 0.0, 6.0, 5.0]])
    save_arrays(tmp_path / "imp.npz",
                features_reconstruction=x, features_denoising=np.exp(x), features_inpainting=-x,
                examples_reconstruction=examples, examples_denoising=examples ** 3,
                examples_inpainting=np.array([[5.0, 6.0, 7.0, 8.0, 7.0], [1.0, 1.0, 1.0, 1.0, 2.0]]))
    table = correlation_tables(tmp_path / "imp.npz", TASKS)
    return table.set_index(["kind", "task_a", "task_b"])


def test_spearman_of_a_monotone_transform_is_one(pooled):
    # exp keeps the ranks: Spearman 1 while Pearson (of a convex transform) is below 1
    assert pooled.loc[("features", "reconstruction", "denoising"), "spearman"] == pytest.approx(1.0)
    assert pooled.loc[("features", "reconstruction", "denoising"), "pearson"] < 0.999
    assert pooled.loc[("features", "reconstruction", "inpainting"), "spearman"] == pytest.approx(-1.0)
    assert pooled.loc[("examples", "reconstruction", "denoising"), "spearman"] == pytest.approx(1.0)


def test_spearman_with_ties_is_pearson_of_average_ranks(pooled):
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 2.0, 1.0, 0.0, 6.0, 5.0])
    b = np.array([5.0, 6.0, 7.0, 8.0, 7.0, 1.0, 1.0, 1.0, 1.0, 2.0])
    rank_a = np.array([2.5, 4.5, 6.0, 7.0, 8.5, 4.5, 2.5, 1.0, 10.0, 8.5])  # ties share their mean rank
    rank_b = np.array([6.0, 7.0, 8.5, 10.0, 8.5, 2.5, 2.5, 2.5, 2.5, 5.0])
    expected = np.corrcoef(rank_a, rank_b)[0, 1]
    assert pooled.loc[("examples", "reconstruction", "inpainting"), "spearman"] == pytest.approx(expected)
    assert pooled.loc[("examples", "reconstruction", "inpainting"), "pearson"] == pytest.approx(np.corrcoef(a, b)[0, 1])


def test_spearman_only_on_pooled_rows(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"images": np.ones((3, 1, 2, 2), dtype=np.float32)}
    for task in TASKS:
        arrays[f"features_{task}"] = rng.random((3, 1, 2, 2))
        arrays[f"examples_{task}"] = rng.random((3, 4))
    save_arrays(tmp_path / "imp.npz", **arrays)
    table = correlation_tables(tmp_path / "imp.npz", TASKS)
    assert table.loc[table["item"].isna(), "spearman"].notna().all()
    assert table.loc[table["item"].notna(), "spearman"].isna().all()


def test_latex_table_of_the_spearman_column():
    rows = [{"kind": "features", "task_a": a, "task_b": b, "item": np.nan, "seed": seed,
             "pearson": 0.5, "spearman": 0.2 + 0.2 * seed if a != b else 1.0}
            for seed in (0, 1) for a in TASKS[:2] for b in TASKS[:2]]
    text = latex_table(pd.DataFrame(rows), "features", TASKS[:2], "spearman")
    # mean 0.3, std over the two runs (pandas' n - 1) 0.1414
    assert r"Reconstruction & 1.00 $\pm$ 0.00 & 0.30 $\pm$ 0.14 \\" in text
    assert "0.50" not in text
