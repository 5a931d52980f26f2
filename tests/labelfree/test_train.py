"""Training of the study's models: what the loss of the claim-1.1 autoencoder sees."""

import numpy as np
import pytest
import torch
from torch import nn

from xairepro.common.io import save_arrays
from xairepro.labelfree import train
from xairepro.labelfree.train import train_autoencoder

GREY = 128  # every training image is this grey, so each batch's clean target is known


class Recorder(nn.Module):
    """``a * x`` with ``a`` = 1 (lr 0 keeps it there); keeps every training-mode input."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.seen: list[torch.Tensor] = []

    def forward(self, x):
        if self.training:
            self.seen.append(x.detach().clone())
        return self.scale * x


@pytest.fixture
def grey_images(tmp_path):
    images = np.full((10, 28, 28), GREY, dtype=np.uint8)
    save_arrays(tmp_path / "mnist.npz", train_x=images, train_y=np.zeros(10, dtype=np.int64),
                test_x=images[:2], test_y=np.zeros(2, dtype=np.int64))
    return tmp_path


def fit_recorder(tmp_path, monkeypatch, noise_level):
    recorder = Recorder()
    monkeypatch.setattr(train, "build_autoencoder", lambda dataset, latent_dim, **options: recorder)
    record = train_autoencoder(tmp_path / "mnist.npz", tmp_path / "ae.pt", tmp_path / "ae.json", tmp_path / "ckpt.pt",
                               latent_dim=2, epochs=2, batch_size=4, lr=0.0, weight_decay=0.0, valid_fraction=0.2,
                               seed=3, noise_level=noise_level, device="cpu")
    return recorder, record


def test_denoising_loss_sees_noisy_inputs_and_clean_targets(grey_images, monkeypatch):
    recorder, record = fit_recorder(grey_images, monkeypatch, noise_level=0.3)
    clean = GREY / 255.0
    seen = torch.stack(recorder.seen[:2])  # epoch 1: two batches of 4 of the 8 training images
    # the identity's MSE against the clean target is exactly the mean squared input noise
    expected = float(((seen - clean) ** 2).mean())
    assert record["history"][0]["train_loss"] == pytest.approx(expected, rel=1e-5)
    assert float((seen - clean).std()) == pytest.approx(0.3, abs=0.02)  # N(0, 0.3^2) noise, 6272 draws
    assert not torch.equal(recorder.seen[0], recorder.seen[2])  # fresh noise every batch and epoch
    # validation: one fixed draw from its own stream (seed + 1), clean targets
    valid_noise = 0.3 * torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(4))
    valid_loss = float((valid_noise ** 2).mean())
    assert [h["valid_loss"] for h in record["history"]] == pytest.approx([valid_loss, valid_loss], rel=1e-5)
    assert record["params"]["noise_level"] == 0.3


def test_noise_level_zero_trains_on_the_clean_inputs(grey_images, monkeypatch):
    recorder, record = fit_recorder(grey_images, monkeypatch, noise_level=0.0)
    assert all(torch.equal(x, torch.full_like(x, GREY / 255.0)) for x in recorder.seen)
    assert [h["train_loss"] for h in record["history"]] == [0.0, 0.0]
    assert "noise_level" not in record["params"]  # a plain run's record (and checkpoint fingerprint) as before
