"""Claims 2 and 3 on CIFAR (FACT's cifar100_from_mnist.py): the pretext encoders and
classifier on FACT's CIFAR encoder, 100 classes for CIFAR-100, and the VAE's Gaussian
likelihood (``rec_dist='gaussian'``)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from xairepro.common.io import save_arrays
from xairepro.labelfree.data import class_count, load_dataset
from xairepro.labelfree.models import BurgessVAE, CifarEncoder, beta_vae_loss
from xairepro.labelfree.steps import task_importance
from xairepro.labelfree.train import load_encoder, train_task


@pytest.fixture
def cifar100(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "cifar100.npz"
    save_arrays(path, train_x=rng.integers(0, 256, (200, 3, 32, 32), dtype=np.uint8),
                train_y=np.arange(200) % 100, test_x=rng.integers(0, 256, (20, 3, 32, 32), dtype=np.uint8),
                test_y=np.arange(20) % 100)
    return path


@pytest.mark.parametrize("task", ["inpainting", "classification"])
def test_pretext_encoder_on_cifar_is_facts(cifar100, tmp_path, task):
    train_task(cifar100, tmp_path / "m.pt", tmp_path / "m.json", tmp_path / "ck.pt", task=task, latent_dim=16,
               epochs=1, batch_size=50, lr=1e-3, weight_decay=1e-5, noise_level=0.3, mask_proportion=0.2, seed=0,
               dataset="cifar100", device="cpu")
    encoder = load_encoder(tmp_path / "m.pt", task)
    assert isinstance(encoder, CifarEncoder)
    assert encoder(torch.rand(4, 3, 32, 32)).shape == (4, 16)
    if task == "classification":
        state = torch.load(tmp_path / "m.pt", weights_only=True)
        assert state["state_dict"]["head.weight"].shape == (100, 16) and class_count("cifar100") == 100


def test_pretext_importance_on_cifar_keeps_what_the_figures_need(cifar100, tmp_path):
    models = {}
    for task in ("reconstruction", "classification"):
        models[task] = tmp_path / f"{task}.pt"
        train_task(cifar100, models[task], tmp_path / f"{task}.json", tmp_path / f"{task}_ck.pt", task=task,
                   latent_dim=16, epochs=1, batch_size=50, lr=1e-3, weight_decay=0.0, noise_level=0.3,
                   mask_proportion=0.2, seed=0, dataset="cifar100", device="cpu")
    out = task_importance(cifar100, models, tmp_path / "imp.npz", n_test=5, subtrain_size=100, shap_samples=2,
                          internal_batch_size=10, seed=0, dataset="cifar100", device="cpu")
    assert out["features_reconstruction"].shape == (5, 3, 32, 32)
    assert out["examples_classification"].shape == (5, 100)
    assert out["subtrain_images"].shape == (100, 3, 32, 32) and out["labels"].tolist() == [0, 1, 2, 3, 4]
    # one training example of each of the 100 classes (the original's n % n_classes)
    np.testing.assert_allclose(out["subtrain_images"][7], np.load(cifar100)["train_x"][7] / 255.0, rtol=1e-6)


def test_gaussian_likelihood_is_the_squared_error_of_the_sigmoid():
    torch.manual_seed(0)
    logits, x = torch.randn(3, 3, 4, 4), torch.rand(3, 3, 4, 4)
    mu, logvar = torch.zeros(3, 2), torch.zeros(3, 2)  # KL 0
    expected = ((torch.sigmoid(logits) - x) ** 2).sum() / 3
    assert beta_vae_loss(logits, x, mu, logvar, 5.0, "gaussian").item() == pytest.approx(expected.item(), rel=1e-6)
    bernoulli = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / 3
    assert beta_vae_loss(logits, x, mu, logvar, 5.0).item() == pytest.approx(bernoulli.item(), rel=1e-6)
    with pytest.raises(ValueError, match="rec_dist"):
        beta_vae_loss(logits, x, mu, logvar, 1.0, "laplace")


def test_cifar_vae_reads_three_channels(cifar100):
    train, test = load_dataset(cifar100, "cifar100")
    assert train.shape == (200, 3, 32, 32) and test.shape == (20, 3, 32, 32) and float(train.max()) <= 1.0
    vae = BurgessVAE(latent_dim=16, size=32, channels=3)
    logits, mu, _, _ = vae(test[:2])
    assert logits.shape == (2, 3, 32, 32) and mu.shape == (2, 16)
