"""The paper-scale code paths on CUDA give the CPU's results (run on a GPU machine; skipped
without CUDA). Training and attribution pick the GPU by themselves (``device="auto"``)."""

import numpy as np
import pytest
import torch

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_loss_gradients_on_cuda_match_the_cpu():
    import torch.nn.functional as F

    from xairepro.attribution.loss_gradient import LossGradient
    from xairepro.lossgrad.models import Net

    from xairepro.common.seeding import seed_everything

    seed_everything(0)  # turns TF32 off
    model = Net(10, "softmax").eval()
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    loss = lambda out, t: F.nll_loss(out, t, reduction="none")  # noqa: E731
    cpu = LossGradient(model, loss).attribute(x, y)
    gpu_model, gx, gy = model.cuda(), x.cuda(), y.cuda()
    exact = LossGradient(gpu_model, loss).attribute(gx, gy).cpu()
    torch.testing.assert_close(exact, cpu, rtol=1e-4, atol=1e-7)
    torch.backends.cudnn.allow_tf32 = True  # PyTorch's default on this GPU
    tf32 = LossGradient(gpu_model, loss).attribute(gx, gy).cpu()
    torch.backends.cudnn.allow_tf32 = False
    print(f"TF32 error: {float((tf32 - cpu).abs().max() / cpu.abs().max()):.2%} of the largest gradient")
    assert (tf32 - cpu).abs().max() > (exact - cpu).abs().max()  # why seed_everything turns it off


@pytest.mark.parametrize("dataset", ["mnist", "ecg"])
def test_labelfree_training_and_attribution_run_on_cuda_like_on_the_cpu(tmp_path, dataset):
    from xairepro.common.io import save_arrays
    from xairepro.labelfree import steps, train

    rng = np.random.default_rng(0)
    if dataset == "mnist":
        arrays = {f"{s}_x": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for s, n in (("train", 256), ("test", 32))}
        arrays |= {f"{s}_y": rng.integers(0, 10, n) for s, n in (("train", 256), ("test", 32))}
    else:
        arrays = {"beats": rng.normal(size=(300, 140)).astype(np.float32), "labels": rng.integers(1, 3, 300)}
    save_arrays(tmp_path / "data.npz", **arrays)
    options = dict(latent_dim=8, epochs=2, batch_size=64, lr=1e-3, weight_decay=1e-5, valid_fraction=0.1, seed=0,
                   dataset=dataset, loss="l1" if dataset == "ecg" else "mse")
    record = train.train_autoencoder(tmp_path / "data.npz", tmp_path / "m.pt", tmp_path / "m.json",
                                        tmp_path / "ckpt.pt", device="cuda", **options)
    assert np.isfinite(record["valid_loss"])
    kwargs = dict(methods=["integrated_gradients", "saliency"], n_test=16, ig_steps=20, shap_samples=2,
                  internal_batch_size=16, seed=0, dataset=dataset, baseline="mean" if dataset == "ecg" else "zero")
    torch.backends.cudnn.enabled = False  # cuDNN's LSTM kernels sum in another order: compare the plain ones
    gpu = steps.feature_importance(tmp_path / "data.npz", tmp_path / "m.pt", tmp_path / "g.npz", device="cuda",
                                      **kwargs)
    cpu = steps.feature_importance(tmp_path / "data.npz", tmp_path / "m.pt", tmp_path / "c.npz", device="cpu",
                                      **kwargs)
    torch.backends.cudnn.enabled = True
    for method in kwargs["methods"]:
        np.testing.assert_allclose(gpu[method], cpu[method], rtol=1e-3, atol=1e-5 * np.abs(cpu[method]).max())


def test_esc50_training_steps_run_on_cuda_like_on_the_cpu(tmp_path, monkeypatch):
    """Classifier, PIQ, NMF and L2I train on the GPU by themselves; their first-epoch losses match the CPU's."""
    from xairepro.esc50 import train
    from xairepro.esc50.data import write_demo_dataset

    root = tmp_path / "data"
    write_demo_dataset(root, n_classes=2, clips_per_fold=2, seed=0)
    folds = {"train": [1, 2], "valid": [3], "test": [4]}
    clf_cfg = {"sample_rate": 16000, "emb_dim": 8, "lin_neurons": 16, "number_of_epochs": 1, "batch_size": 4,
               "lr": 0.005, "weight_decay": 2e-6, "margin": 0.2, "scale": 30,
               "use_pretrained": False, "lr_annealing": "constant"}
    plateau = {"factor": 0.5, "patience": 3, "dont_halve_until_epoch": 100}
    piq_cfg = {"K": 8, "shared_keys": 0, "number_of_epochs": 1, "batch_size": 4, "lr": 0.01, "mask_th": 0.35,
               "rec_loss_coef": 1.0, "lr_annealing": plateau}
    nmf_cfg = {"K": 6, "number_of_epochs": 1, "batch_size": 4, "lr": 0.01}
    l2i_cfg = {"K": 6, "number_of_epochs": 1, "batch_size": 4, "lr": 0.002, "alpha": 10.0, "beta": 0.8,
               "relevance_th": 0.2, "lr_annealing": plateau, "k_fidelity": 3}
    losses = {}
    for device in ("cpu", "cuda:0"):
        monkeypatch.setattr(train, "train_device", lambda d=device: d)
        out = tmp_path / device.replace(":", "")
        out.mkdir()
        common = {"seed": 0, "threads": 2, "folds": folds}
        c = train.train_classifier(root, out / "clf.pt", out / "clf.json", out / "clf_ck.pt", arch="conv2d",
                                   cfg=clf_cfg, mask_augment=0.5, **common)
        p = train.train_piq(root, out / "clf.pt", out / "piq.pt", out / "piq.json", out / "piq_ck.pt", cfg=piq_cfg,
                            **common)
        n = train.train_nmf(root, out / "nmf.pt", out / "nmf.json", out / "nmf_ck.pt", sample_rate=16000, cfg=nmf_cfg,
                            **common)
        lt = train.train_l2i(root, out / "clf.pt", out / "nmf.pt", out / "l2i.pt", out / "l2i.json", out / "l2i_ck.pt",
                             cfg=l2i_cfg, **common)
        losses[device] = [r["history"][0]["train_loss"] for r in (c, p, n, lt)]
        assert train.load_classifier(out / "clf.pt").embedding_model is not None  # saved weights load on the CPU
    np.testing.assert_allclose(losses["cuda:0"], losses["cpu"], rtol=0.05)
