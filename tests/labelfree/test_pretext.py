import numpy as np
import pandas as pd
import pytest
import torch

from xairepro.common.io import save_arrays
from xairepro.labelfree.steps import correlation_tables
from xairepro.labelfree.tables import latex_table, pretext_claims
from xairepro.labelfree.train import corrupt

TASKS = ["reconstruction", "denoising", "classification"]


def test_pretext_inputs():
    x = torch.ones(2, 1, 28, 28)
    generator = torch.Generator().manual_seed(0)
    assert torch.equal(corrupt(x, "reconstruction", generator, 0.3, 0.2), x)
    noisy = corrupt(x, "denoising", generator, 0.3, 0.2)
    assert abs((noisy - x).std().item() - 0.3) < 0.02
    masked = corrupt(x, "inpainting", generator, 0.3, 0.2)
    assert set(masked.unique().tolist()) == {0.0, 1.0} and abs((masked == 0).float().mean().item() - 0.2) < 0.03
    with pytest.raises(ValueError):
        corrupt(x, "jigsaw", generator, 0.3, 0.2)


@pytest.fixture
def importance(tmp_path):
    rng = np.random.default_rng(0)
    base_f, base_e = rng.random((10, 1, 4, 4)), rng.random((10, 6))
    arrays = {}
    for i, task in enumerate(TASKS):  # each task = shared part + more and more own noise
        arrays[f"features_{task}"] = base_f + i * rng.random(base_f.shape)
        arrays[f"examples_{task}"] = base_e + i * rng.random(base_e.shape)
    save_arrays(tmp_path / "imp.npz", **arrays)
    return tmp_path / "imp.npz", arrays


def test_correlation_tables_are_pearson_matrices(importance):
    path, arrays = importance
    table = correlation_tables(path, TASKS)
    assert len(table) == 2 * 9
    feats = table[table.kind == "features"].set_index(["task_a", "task_b"])["pearson"]
    assert feats[("denoising", "denoising")] == pytest.approx(1.0)
    assert feats[("reconstruction", "denoising")] == pytest.approx(feats[("denoising", "reconstruction")])
    expected = np.corrcoef(arrays["features_reconstruction"].ravel(), arrays["features_classification"].ravel())[0, 1]
    assert feats[("reconstruction", "classification")] == pytest.approx(expected)


def test_latex_table_and_claims(importance):
    path, _ = importance
    table = pd.concat([correlation_tables(path, TASKS).assign(seed=s) for s in (0, 1)])
    latex = latex_table(table, "features", TASKS)
    assert latex.count(r"\\") == len(TASKS) + 1 and r"1.00 $\pm$ 0.00" in latex
    single = latex_table(table[table.seed == 0], "examples", TASKS)
    assert r"\pm" not in single
    claims = pretext_claims(table, "MNIST")
    assert len(claims) == 4 and claims["pass"].all()
    identical = table.assign(pearson=1.0)
    assert not pretext_claims(identical, "MNIST")["pass"].iloc[0]
