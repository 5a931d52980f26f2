import numpy as np
import pandas as pd
import pytest
import torch

from xairepro.common.claims import failed_claims
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
    base_f, base_e = rng.random((10, 1, 4, 4)), rng.random((10, 30))
    arrays = {"images": (rng.random((10, 1, 4, 4)) > 0.3).astype(np.float32)}
    for i, task in enumerate(TASKS):  # each task = shared part + more and more own noise
        arrays[f"features_{task}"] = base_f + i * rng.random(base_f.shape)
        arrays[f"examples_{task}"] = base_e + i * rng.random(base_e.shape)
    for name in ("reference_0", "reference_1", "randomised_0", "randomised_1", "randomised_2"):  # untrained
        arrays[f"features_{name}"] = rng.random(base_f.shape)
        arrays[f"examples_{name}"] = rng.random(base_e.shape)
    save_arrays(tmp_path / "imp.npz", **arrays)
    return tmp_path / "imp.npz", arrays


def test_correlation_tables_are_pearson_matrices(importance):
    path, arrays = importance
    table = correlation_tables(path, TASKS)
    pooled = table[table["item"].isna()]
    assert len(pooled) == 2 * 9
    feats = pooled[pooled.kind == "features"].set_index(["task_a", "task_b"])["pearson"]
    assert feats[("denoising", "denoising")] == pytest.approx(1.0)
    assert feats[("reconstruction", "denoising")] == pytest.approx(feats[("denoising", "reconstruction")])
    expected = np.corrcoef(arrays["features_reconstruction"].ravel(), arrays["features_classification"].ravel())[0, 1]
    assert feats[("reconstruction", "classification")] == pytest.approx(expected)


def test_per_image_correlations_cover_the_task_pairs_and_the_control(importance):
    path, arrays = importance
    per_item = correlation_tables(path, TASKS).dropna(subset=["item"])
    pairs = set(zip(per_item.task_a, per_item.task_b))
    untrained = ["randomised_0", "randomised_1", "randomised_2"]
    assert pairs == {("reconstruction", "denoising"), ("reconstruction", "classification"),
                     ("denoising", "classification"), *((t, r) for t in TASKS + untrained
                                                        for r in ("reference_0", "reference_1")),
                     (untrained[0], untrained[1]), (untrained[0], untrained[2]), (untrained[1], untrained[2])}
    row = per_item[(per_item.kind == "features") & (per_item.task_a == "reconstruction")
                   & (per_item.task_b == "denoising") & (per_item["item"] == 3)]
    keep = arrays["images"][3].ravel() != 0  # features: the image's non-blank pixels only
    expected = np.corrcoef(arrays["features_reconstruction"][3].ravel()[keep],
                           arrays["features_denoising"][3].ravel()[keep])[0, 1]
    assert row.pearson.item() == pytest.approx(expected)


def test_latex_table_and_claims(importance):
    path, _ = importance
    table = pd.concat([correlation_tables(path, TASKS).assign(seed=s) for s in (0, 1)])
    latex = latex_table(table, "features", TASKS)
    assert latex.count(r"\\") == len(TASKS) + 1 and r"1.00 $\pm$ 0.00" in latex
    single = latex_table(table[table.seed == 0], "examples", TASKS)
    assert r"\pm" not in single
    claims = pretext_claims(table, "MNIST", margin=0.1)
    assert len(claims) == 2 and failed_claims(claims) == [], claims.to_string()
    assert (claims.control != "").all() and not claims.control_pass.any()


def test_tasks_that_share_only_what_an_untrained_encoder_shares_fail_the_claims(importance):
    path, _ = importance
    table = correlation_tables(path, TASKS).assign(seed=0)
    per_item = table["item"].notna()
    prior = table.assign(pearson=table.pearson.where(~per_item, 0.5))  # every per-item correlation 0.5
    claims = pretext_claims(prior, "MNIST", margin=0.1)
    assert claims.verdict.tolist() == ["fail", "fail"]
