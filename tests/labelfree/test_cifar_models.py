"""FACT's CIFAR autoencoder (FACT lfxai/models/cifar100_models.py) and its denoising training."""

import numpy as np
import pytest
import torch

from xairepro.common.io import save_arrays
from xairepro.labelfree import train as train_module
from xairepro.labelfree.models import CifarAutoencoder, RecurrentAutoencoder, build_autoencoder, unrolled_lstm

#: FACT's EncoderCIFAR / DecoderCIFAR(encoded_space_dim=16) parameters, read off its
#: nn.Sequential layouts: conv 3x3 3-32-64-128-128 with LayerNorm([C, H, W]) after the first
#: three, FC 2048-128-16; FC 16-128-2048, transposed conv 128-64-32-3 with two LayerNorms.
FACT_PARAMETERS = {
    "encoder.encoder_cnn.0.weight": (32, 3, 3, 3), "encoder.encoder_cnn.0.bias": (32,),
    "encoder.encoder_cnn.1.weight": (32, 32, 32), "encoder.encoder_cnn.1.bias": (32, 32, 32),
    "encoder.encoder_cnn.4.weight": (64, 32, 3, 3), "encoder.encoder_cnn.4.bias": (64,),
    "encoder.encoder_cnn.5.weight": (64, 16, 16), "encoder.encoder_cnn.5.bias": (64, 16, 16),
    "encoder.encoder_cnn.8.weight": (128, 64, 3, 3), "encoder.encoder_cnn.8.bias": (128,),
    "encoder.encoder_cnn.9.weight": (128, 8, 8), "encoder.encoder_cnn.9.bias": (128, 8, 8),
    "encoder.encoder_cnn.12.weight": (128, 128, 3, 3), "encoder.encoder_cnn.12.bias": (128,),
    "encoder.encoder_lin.0.weight": (128, 2048), "encoder.encoder_lin.0.bias": (128,),
    "encoder.encoder_lin.2.weight": (16, 128), "encoder.encoder_lin.2.bias": (16,),
    "decoder.decoder_lin.0.weight": (128, 16), "decoder.decoder_lin.0.bias": (128,),
    "decoder.decoder_lin.2.weight": (2048, 128), "decoder.decoder_lin.2.bias": (2048,),
    "decoder.decoder_conv.0.weight": (128, 64, 3, 3), "decoder.decoder_conv.0.bias": (64,),
    "decoder.decoder_conv.1.weight": (64, 8, 8), "decoder.decoder_conv.1.bias": (64, 8, 8),
    "decoder.decoder_conv.3.weight": (64, 32, 3, 3), "decoder.decoder_conv.3.bias": (32,),
    "decoder.decoder_conv.4.weight": (32, 16, 16), "decoder.decoder_conv.4.bias": (32, 16, 16),
    "decoder.decoder_conv.6.weight": (32, 3, 3, 3), "decoder.decoder_conv.6.bias": (3,),
}


def test_cifar_autoencoder_parameters_match_facts_modules():
    model = CifarAutoencoder(latent_dim=16)
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    assert shapes == FACT_PARAMETERS


def test_cifar_autoencoder_shapes_and_range():
    model = build_autoencoder("cifar100", 16).eval()
    x = torch.rand(5, 3, 32, 32)
    with torch.no_grad():
        z, out = model.encode(x), model(x)
    assert z.shape == (5, 16)
    assert out.shape == (5, 3, 32, 32)
    assert float(out.min()) > 0 and float(out.max()) < 1
    # intermediate maps as FACT's comments give them: 32 -> 16 -> 8 -> 4 pixels
    with torch.no_grad():
        assert model.encoder.encoder_cnn(x).shape == (5, 128, 4, 4)
        assert model.decoder.decoder_lin(z).shape == (5, 2048)


def test_denoising_loss_sees_noisy_inputs_and_clean_targets(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 3, 32, 32), dtype=np.uint8)
    save_arrays(tmp_path / "cifar10.npz", train_x=images, train_y=np.arange(40) % 10,
                test_x=images[:10], test_y=np.arange(10))
    seen = {"inputs": [], "targets": []}

    class Recording(CifarAutoencoder):
        def forward(self, x):
            if self.training:
                seen["inputs"].append(x.detach().clone())
            return super().forward(x)

    def recording_mse():
        def loss(reconstruction, target):
            if reconstruction.requires_grad:
                seen["targets"].append(target.detach().clone())
            return torch.nn.functional.mse_loss(reconstruction, target)
        return loss

    monkeypatch.setattr(train_module, "build_autoencoder", lambda dataset, latent_dim, **o: Recording(latent_dim))
    monkeypatch.setitem(train_module.LOSSES, "mse", recording_mse)
    train_module.train_autoencoder(tmp_path / "cifar10.npz", tmp_path / "ae.pt", tmp_path / "ae.json",
                                   tmp_path / "ck.pt", latent_dim=16, epochs=1, batch_size=12, lr=1e-3,
                                   weight_decay=1e-5, valid_fraction=0.1, seed=0, dataset="cifar10",
                                   noise_level=0.3)
    clean = torch.from_numpy(images.astype(np.float32) / 255.0)
    assert len(seen["inputs"]) == len(seen["targets"]) == 3  # 36 training images in batches of 12
    for noisy, target in zip(seen["inputs"], seen["targets"]):
        # targets are clean training images, inputs those images plus N(0, 0.3^2) noise
        assert all(any(torch.equal(t, c) for c in clean) for t in target)
        assert (noisy - target).std().item() == pytest.approx(0.3, rel=0.05)


def test_unrolled_lstm_equals_the_fused_one():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 5, batch_first=True)
    x = torch.randn(4, 7, 3)
    assert torch.allclose(unrolled_lstm(lstm, x), lstm(x)[0], atol=1e-6)
    model = RecurrentAutoencoder(latent_dim=4).eval()
    beats = torch.randn(3, 1, 20)
    fused, code = model(beats), model.encode(beats)
    model.unrolled = True
    assert torch.allclose(model(beats), fused, atol=1e-6)
    assert torch.allclose(model.encode(beats), code, atol=1e-6)
