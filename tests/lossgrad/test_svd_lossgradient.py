"""The singing-voice half's ``lossgradient`` option and its several models (``svd.seeds``).

The original's ``ROAR_predict.py`` ranks the bins by the loss gradient of the model its
``--lossgradient`` names, which may differ from the model it evaluates; its run-all script
evaluates every model of its ``--modelpath`` list on its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from xairepro.common.io import load_arrays, save_arrays, save_torch
from xairepro.lossgrad.data import BLOCKLEN, MEL_BANDS, ExcerptSet
from xairepro.lossgrad.models import SVDNet

TINY_ARCH = {"conv1": 2, "conv2": 2, "conv3": 3, "conv4": 2, "fc1": 4, "fc2": 3}
N_FRAMES = 12
N_BINS = BLOCKLEN * MEL_BANDS


def _save_net(path, seed):
    torch.manual_seed(seed)
    net = SVDNet(**TINY_ARCH).eval()
    save_torch(path, {"state_dict": net.state_dict(), "blocklen": BLOCKLEN, "mel_bands": MEL_BANDS,
                      "arch": dict(TINY_ARCH)})
    return net


@pytest.fixture
def two_nets(tmp_path):
    """A test split of two files, its z-norm, two tiny SVDNets of different seeds (A, B)."""
    rng = np.random.default_rng(0)
    spect = rng.normal(size=(N_FRAMES, MEL_BANDS)).astype(np.float32)
    labels = (rng.random(N_FRAMES) > 0.5).astype(np.float32)
    offsets = np.array([0, 5, N_FRAMES])
    save_arrays(tmp_path / "spects.npz", test_spect=spect, test_labels=labels, test_offsets=offsets)
    save_arrays(tmp_path / "znorm.npz", mean=spect.mean(0), std=spect.std(0))
    nets = {name: _save_net(tmp_path / f"{name}.pt", seed) for name, seed in (("A", 1), ("B", 2))}
    excerpts = ExcerptSet(spect, offsets, spect.mean(0), spect.std(0))
    return tmp_path, nets, excerpts, labels


def _reference_gradient(net, excerpts, labels):
    """dL/dx of each excerpt alone, L = BCE(net(x), hard label): ``(N, blocklen, 80)``."""
    out = []
    for index, x in excerpts.batches(1):
        x = x.clone().requires_grad_(True)
        loss = torch.nn.functional.binary_cross_entropy(net(x).reshape(1), torch.tensor(labels[index.numpy()]))
        (g,) = torch.autograd.grad(loss, x)
        out.append(g.reshape(BLOCKLEN, MEL_BANDS).numpy())
    return np.stack(out)


def _occlusion(root, model, grads, **kwargs):
    from xairepro.lossgrad.steps import svd_occlusion
    from xairepro.lossgrad.train import load_svd_model, predict_frames

    spect, znorm = load_arrays(root / "spects.npz"), load_arrays(root / "znorm.npz")
    excerpts = ExcerptSet(spect["test_spect"], spect["test_offsets"], znorm["mean"], znorm["std"])
    clean = predict_frames(load_svd_model(root / f"{model}.pt"), excerpts, batch_size=4)
    save_arrays(root / f"preds_{model}.npz", threshold=np.float64(0.5), test_raw=clean)
    return svd_occlusion(root / "spects.npz", root / "znorm.npz", root / f"{model}.pt", grads,
                         root / f"preds_{model}.npz", attribution_methods=["grad_orig"], replacement_types=["mean"],
                         roar=[1], median_filter=1, test_batch_size=4, **kwargs)


def test_lossgradient_of_model_b_ranks_model_a_input(two_nets):
    """Model A occluded at the top-k bins of model B's own loss gradient: the cache holds B's
    per-excerpt gradient, and A's per-excerpt losses are those of A on the excerpts zeroed
    (the mean after z-normalisation) at the k largest entries of that gradient."""
    from xairepro.lossgrad.steps import compute_svd_gradients

    root, nets, excerpts, labels = two_nets
    compute_svd_gradients(root / "spects.npz", root / "znorm.npz", root / "B.pt", root / "grads_B.npz",
                          gradient_batch_size=5, seed=2)
    g_b = _reference_gradient(nets["B"], excerpts, labels)
    np.testing.assert_allclose(load_arrays(root / "grads_B.npz")["grads"], g_b, rtol=1e-4, atol=1e-7)

    k = N_BINS // 4
    table, items = _occlusion(root, "A", root / "grads_B.npz", seed=1, lossgradient=2, occlude_levels=[k])
    expected = []
    for (index, x), g in zip(excerpts.batches(1), g_b):
        top = np.argsort(g.ravel(), kind="stable")[-k:]  # grad_orig, ROAR=1: the k most positive
        occluded = x.clone().reshape(-1)
        occluded[torch.from_numpy(top)] = 0.0
        with torch.no_grad():
            p = nets["A"](occluded.reshape(1, 1, BLOCKLEN, MEL_BANDS)).double().clamp(1e-7, 1 - 1e-7)
        expected.append(float(torch.nn.functional.binary_cross_entropy(
            p.reshape(1), torch.tensor(labels[index.numpy()], dtype=torch.float64))))
    loss = items["loss"][list(items["conditions"]).index(f"grad_orig|mean|1|{k}")]
    np.testing.assert_allclose(loss, expected, rtol=1e-4)
    assert set(table.seed) == {1} and set(table.lossgradient) == {2}

    # A's own gradient occludes other bins: the option changes what is measured.
    compute_svd_gradients(root / "spects.npz", root / "znorm.npz", root / "A.pt", root / "grads_A.npz",
                          gradient_batch_size=5, seed=1)
    _, own = _occlusion(root, "A", root / "grads_A.npz", seed=1, occlude_levels=[k])
    assert not np.allclose(own["loss"][list(own["conditions"]).index(f"grad_orig|mean|1|{k}")], loss)


def test_occlusion_table_names_its_own_gradient_by_default(two_nets):
    from xairepro.lossgrad.steps import compute_svd_gradients

    root, *_ = two_nets
    compute_svd_gradients(root / "spects.npz", root / "znorm.npz", root / "A.pt", root / "grads_A.npz",
                          gradient_batch_size=5, seed=1)
    table, _ = _occlusion(root, "A", root / "grads_A.npz", seed=1, occlude_levels=[10])
    assert set(table.lossgradient) == {1}


def _write_model_tables(root, seed, auroc):
    from xairepro.common.io import write_csv

    write_csv(root / f"eval{seed}.csv", pd.DataFrame([{"split": "test", "auroc": auroc, "error": 1 - auroc}]), {})
    rows = [{"seed": seed, "lossgradient": seed, "method": m, "replacement": "mean", "order": o, "k": k,
             "fraction": k / N_BINS, "auroc": auroc - k / 1e4, "error": 1 - auroc + k / 1e4}
            for m in ("grad_orig", "random") for o in (1, 0) for k in (0, 920)]
    write_csv(root / f"roar{seed}.csv", pd.DataFrame(rows), {})


def test_aggregate_svd_keeps_every_model_with_its_seed(tmp_path):
    from xairepro.lossgrad.tables import aggregate_svd

    for seed, auroc in ((1, 0.9), (2, 0.8)):
        _write_model_tables(tmp_path, seed, auroc)
    evaluation, roar = aggregate_svd([tmp_path / "eval1.csv", tmp_path / "eval2.csv"],
                                     [tmp_path / "roar1.csv", tmp_path / "roar2.csv"], [1, 2])
    assert list(evaluation.seed) == [1, 2] and list(evaluation.columns)[0] == "seed"
    assert evaluation.auroc.tolist() == [0.9, 0.8]
    assert len(roar) == 16 and roar.groupby("seed").size().tolist() == [8, 8]
    with pytest.raises(ValueError, match="2 seeds but 1 evaluations"):
        aggregate_svd([tmp_path / "eval1.csv"], [tmp_path / "roar1.csv"], [1, 2])


def test_svd_figure_draws_the_mean_over_models(tmp_path):
    from xairepro.common.io import read_csv
    from xairepro.lossgrad.figures import plot_svd_roar

    for seed, auroc in ((1, 0.9), (2, 0.8)):
        _write_model_tables(tmp_path, seed, auroc)
    table = pd.concat([read_csv(tmp_path / f"roar{s}.csv") for s in (1, 2)], ignore_index=True)
    fig = plot_svd_roar(table)
    ax = fig.axes[0]
    line = next(line for line in ax.get_lines() if "grad_orig" in line.get_label())
    np.testing.assert_allclose(line.get_ydata(), [0.85, 0.85 - 920 / 1e4])
    assert "mean over 2 models" in fig._suptitle.get_text()
    assert ax.collections  # the min-max band
