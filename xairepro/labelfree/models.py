"""Models of the ``labelfree`` study: the autoencoders of the feature experiments and the
Burgess VAE with the beta-VAE and beta-TCVAE objectives.

* :class:`MnistAutoencoder`: conv 1-8-16-32 (stride 2) + FC 128 -> latent d (4 in the
  paper), mirrored decoder ending in a sigmoid; trained with MSE.
* :class:`RecurrentAutoencoder`: the LSTM autoencoder of ECG beats (latent 64, L1 loss).
* :class:`CifarAutoencoder`: a conv autoencoder for CIFAR-10/100 (paper scale).
* :class:`EncoderClassifier`: the MNIST encoder plus a linear layer to 10 logits (FACT's
  encoder vs full model extension, and the classification task of the pretext claims).
* :class:`BurgessVAE`: Burgess et al. (2018), "Understanding disentangling in beta-VAE":
  4x4 stride-2 convolutions of 32 channels down to 4x4, two FC layers of 256, a Gaussian
  latent; the decoder mirrors it and returns Bernoulli logits.
* :func:`beta_vae_loss` (Higgins et al. 2017) and :func:`beta_tcvae_loss` (Chen et al.
  2018, minibatch-weighted sampling) with a Bernoulli likelihood.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class MnistAutoencoder(nn.Module):
    """Autoencoder for ``(N, 1, 28, 28)`` images in [0, 1] with a ``latent_dim`` code."""

    def __init__(self, latent_dim: int = 4):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=0), nn.ReLU(),
            nn.Flatten(), nn.Linear(3 * 3 * 32, 128), nn.ReLU(), nn.Linear(128, latent_dim),
        )  # (N, 1, 28, 28) -> (N, 8, 14, 14) -> (N, 16, 7, 7) -> (N, 32, 3, 3) -> (N, d)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 128), nn.ReLU(), nn.Linear(128, 3 * 3 * 32), nn.ReLU(),
            nn.Unflatten(1, (32, 3, 3)),
            nn.ConvTranspose2d(32, 16, 3, stride=2, output_padding=0), nn.BatchNorm2d(16), nn.ReLU(),
            nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid(),
        )  # (N, d) -> (N, 32, 3, 3) -> (N, 16, 7, 7) -> (N, 8, 14, 14) -> (N, 1, 28, 28)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class RecurrentAutoencoder(nn.Module):
    """LSTM autoencoder of single-lead beats ``(N, 1, T)`` (the original's ECG5000 model).

    Encoder: two LSTMs (1 -> 2d -> d); the last hidden state of the second is the code of
    size d (64 in the paper). Decoder: the code repeated over T steps, two LSTMs
    (d -> d -> 2d) and a linear read-out per step. Beats enter channel-first like images,
    so attribution and masking code treats time steps as pixels.

    ``positional_decoder`` appends (sin, cos) of the phase t / T to the decoder's input at
    every step. Off in the original; the demo turns it on because the plain repeated-code
    decoder needs far more than the demo's epochs to leave the mean beat (measured: L1
    0.67 -> 0.57 in 30 epochs without, -> 0.29 in 15 with). The encoder, the part that is
    explained, is the same either way.
    """

    def __init__(self, latent_dim: int = 64, length: int = 140, positional_decoder: bool = False):
        super().__init__()
        self.latent_dim, self.length, self.positional_decoder = latent_dim, length, positional_decoder
        self.enc1 = nn.LSTM(1, 2 * latent_dim, batch_first=True)
        self.enc2 = nn.LSTM(2 * latent_dim, latent_dim, batch_first=True)
        self.dec1 = nn.LSTM(latent_dim + 2 * positional_decoder, latent_dim, batch_first=True)
        self.dec2 = nn.LSTM(latent_dim, 2 * latent_dim, batch_first=True)
        self.out = nn.Linear(2 * latent_dim, 1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.enc1(x.transpose(1, 2))  # (N, T, 1) -> (N, T, 2d)
        _, (last, _) = self.enc2(h)
        return last[-1]  # (N, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encode(x)
        steps = x.shape[-1]
        inputs = z.unsqueeze(1).expand(-1, steps, -1)
        if self.positional_decoder:
            phase = torch.arange(steps, device=x.device, dtype=x.dtype) / steps * 2 * math.pi
            position = torch.stack([phase.sin(), phase.cos()], dim=1).expand(len(x), -1, -1)
            inputs = torch.cat([inputs, position], dim=2)
        h, _ = self.dec1(inputs.contiguous())
        h, _ = self.dec2(h)
        return self.out(h).transpose(1, 2)  # (N, 1, T)


class CifarAutoencoder(nn.Module):
    """Convolutional autoencoder of ``(N, 3, 32, 32)`` images in [0, 1] (FACT's CIFAR runs):
    conv 3-32-64-128 (stride 2) to 4x4, a linear code of ``latent_dim``, mirrored decoder
    ending in a sigmoid."""

    def __init__(self, latent_dim: int = 64):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 32, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 128, 4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(128 * 4 * 4, latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 128 * 4 * 4), nn.ReLU(), nn.Unflatten(1, (128, 4, 4)),
            nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 3, 4, stride=2, padding=1), nn.Sigmoid(),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


#: The autoencoder of each feature-consistency data set.
AUTOENCODERS = {"mnist": MnistAutoencoder, "ecg": RecurrentAutoencoder, "cifar10": CifarAutoencoder,
                "cifar100": CifarAutoencoder}


def build_autoencoder(dataset: str, latent_dim: int, **options) -> nn.Module:
    """A fresh autoencoder for ``dataset`` (a key of :data:`AUTOENCODERS`); ``options`` go
    to its constructor (``positional_decoder`` for ECG)."""
    if dataset not in AUTOENCODERS:
        raise ValueError(f"no autoencoder for data set {dataset!r}; choose from {sorted(AUTOENCODERS)}")
    return AUTOENCODERS[dataset](latent_dim=latent_dim, **options)



class EncoderClassifier(nn.Module):
    """The MNIST encoder followed by ``Linear(latent_dim, n_classes)``: logits ``(N, n_classes)``."""

    def __init__(self, latent_dim: int = 4, n_classes: int = 10):
        super().__init__()
        self.encoder = MnistAutoencoder(latent_dim).encoder
        self.head = nn.Linear(latent_dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))

class BurgessVAE(nn.Module):
    """Gaussian-latent VAE for ``(N, channels, size, size)`` images, size 32 or 64.

    :meth:`encode` returns ``(mu, logvar)``, each ``(N, latent_dim)``; :meth:`forward`
    returns ``(logits, mu, logvar, z)`` with a reparameterised sample ``z``.
    """

    def __init__(self, latent_dim: int = 6, size: int = 64, channels: int = 1, hidden: int = 32):
        super().__init__()
        if size not in (32, 64):
            raise ValueError(f"BurgessVAE takes 32x32 or 64x64 images, not {size}x{size}")
        n_conv = int(math.log2(size // 4))  # down to 4x4
        layers: list[nn.Module] = []
        in_ch = channels
        for _ in range(n_conv):
            layers += [nn.Conv2d(in_ch, hidden, 4, stride=2, padding=1), nn.ReLU()]
            in_ch = hidden
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(*layers, nn.Flatten(), nn.Linear(hidden * 16, 256), nn.ReLU(),
                                     nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 2 * latent_dim))
        up: list[nn.Module] = []
        for i in range(n_conv):
            last = i == n_conv - 1
            up += [nn.ConvTranspose2d(hidden, channels if last else hidden, 4, stride=2, padding=1)]
            if not last:
                up.append(nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(latent_dim, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                                     nn.Linear(256, hidden * 16), nn.ReLU(), nn.Unflatten(1, (hidden, 4, 4)), *up)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decoder(z), mu, logvar, z


def _reconstruction(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Bernoulli negative log-likelihood summed over pixels, averaged over the batch."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]


def _log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Elementwise log N(z; mu, exp(logvar))."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu) ** 2 * torch.exp(-logvar))


def beta_vae_loss(logits, x, mu, logvar, beta: float = 1.0) -> torch.Tensor:
    """Reconstruction + beta * KL(q(z|x) || N(0, I)), per example (Higgins et al. 2017)."""
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1).mean()
    return _reconstruction(logits, x) + beta * kl


def beta_tcvae_decomposition(z, mu, logvar, dataset_size: int) -> dict[str, torch.Tensor]:
    """Index-code MI, total correlation and dimension-wise KL of a batch (Chen et al. 2018).

    Uses minibatch-weighted sampling: log q(z) ~ logsumexp_j log q(z | x_j) - log(N M),
    with M the batch size and N ``dataset_size``. The three terms add up to the sampled KL
    ``mean(log q(z|x) - log p(z))`` exactly.
    """
    batch = z.shape[0]
    log_qz_x = _log_normal(z, mu, logvar).sum(dim=1)  # (M,)
    log_pz = _log_normal(z, torch.zeros_like(z), torch.zeros_like(z)).sum(dim=1)
    pairwise = _log_normal(z.unsqueeze(1), mu.unsqueeze(0), logvar.unsqueeze(0))  # (M, M, d)
    log_norm = math.log(batch * dataset_size)
    log_qz = torch.logsumexp(pairwise.sum(dim=2), dim=1) - log_norm
    log_prod_qz = (torch.logsumexp(pairwise, dim=1) - log_norm).sum(dim=1)
    return {
        "mutual_information": (log_qz_x - log_qz).mean(),
        "total_correlation": (log_qz - log_prod_qz).mean(),
        "dimension_kl": (log_prod_qz - log_pz).mean(),
    }


def beta_tcvae_loss(logits, x, mu, logvar, z, dataset_size: int, beta: float = 1.0) -> torch.Tensor:
    """Reconstruction + MI + beta * TC + dimension-wise KL (alpha = gamma = 1)."""
    terms = beta_tcvae_decomposition(z, mu, logvar, dataset_size)
    return (_reconstruction(logits, x) + terms["mutual_information"] + beta * terms["total_correlation"]
            + terms["dimension_kl"])
