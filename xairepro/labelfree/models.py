"""Models of the ``labelfree`` study: the autoencoders of the feature experiments and the
Burgess VAE with the beta-VAE and beta-TCVAE objectives.

* :class:`MnistAutoencoder`: conv 1-8-16-32 (stride 2) + FC 128 -> latent d (4 in the
  paper), mirrored decoder ending in a sigmoid; trained with MSE.
* :class:`RecurrentAutoencoder`: the LSTM autoencoder of ECG beats (latent 64, L1 loss).
* :class:`CifarAutoencoder` (:class:`CifarEncoder`, :class:`CifarDecoder`): FACT's CIFAR-10/100
  autoencoder, conv 3-32-64-128-128 with LayerNorm and max-pooling, latent 16 (paper scale).
* :class:`EncoderClassifier`: a data set's encoder (MNIST's by default, CIFAR's for the
  CIFAR pretext claims) plus a linear layer to the class logits (FACT's encoder vs full
  model extension, and the classification task of the pretext claims).
* :class:`BurgessVAE`: Burgess et al. (2018), "Understanding disentangling in beta-VAE":
  4x4 stride-2 convolutions of 32 channels down to 4x4, two FC layers of 256, a Gaussian
  latent; the decoder mirrors it and returns Bernoulli logits.
* :func:`beta_vae_loss` (Higgins et al. 2017) and :func:`beta_tcvae_loss` (Chen et al.
  2018, minibatch-weighted sampling) with a Bernoulli likelihood (MNIST, dSprites) or, as
  FACT's CIFAR runs, a Gaussian one (``rec_dist``).
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

    ``unrolled`` (set on a built model) runs every LSTM step by step (:func:`unrolled_lstm`):
    the same numbers, but through plain tensor operations, which influence functions need
    (their Hessian-vector products use forward-mode AD, which the fused mkldnn and cuDNN
    LSTM kernels do not implement).
    """

    #: The modules :meth:`encode` runs (the encoder's parameters, for example importance).
    encoder_modules = ("enc1", "enc2")

    def __init__(self, latent_dim: int = 64, length: int = 140, positional_decoder: bool = False):
        super().__init__()
        self.latent_dim, self.length, self.positional_decoder = latent_dim, length, positional_decoder
        self.unrolled = False
        self.enc1 = nn.LSTM(1, 2 * latent_dim, batch_first=True)
        self.enc2 = nn.LSTM(2 * latent_dim, latent_dim, batch_first=True)
        self.dec1 = nn.LSTM(latent_dim + 2 * positional_decoder, latent_dim, batch_first=True)
        self.dec2 = nn.LSTM(latent_dim, 2 * latent_dim, batch_first=True)
        self.out = nn.Linear(2 * latent_dim, 1)

    def _run(self, lstm: nn.LSTM, x: torch.Tensor) -> torch.Tensor:
        """Outputs ``(N, T, H)`` of one of the LSTMs."""
        return unrolled_lstm(lstm, x) if self.unrolled else lstm(x)[0]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h = self._run(self.enc1, x.transpose(1, 2))  # (N, T, 1) -> (N, T, 2d)
        if self.unrolled:
            return unrolled_lstm(self.enc2, h)[:, -1]  # the last hidden state: (N, d)
        _, (last, _) = self.enc2(h)
        return last[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encode(x)
        steps = x.shape[-1]
        inputs = z.unsqueeze(1).expand(-1, steps, -1)
        if self.positional_decoder:
            phase = torch.arange(steps, device=x.device, dtype=x.dtype) / steps * 2 * math.pi
            position = torch.stack([phase.sin(), phase.cos()], dim=1).expand(len(x), -1, -1)
            inputs = torch.cat([inputs, position], dim=2)
        h = self._run(self.dec2, self._run(self.dec1, inputs.contiguous()))
        return self.out(h).transpose(1, 2)  # (N, 1, T)


def unrolled_lstm(lstm: nn.LSTM, x: torch.Tensor) -> torch.Tensor:
    """``lstm(x)[0]`` of a one-layer, batch-first :class:`torch.nn.LSTM` from zero states,
    computed step by step from its own weights: ``x`` ``(N, T, I)`` -> ``(N, T, H)``.

    Gates in PyTorch's order (input, forget, cell, output):
    ``c_t = sigma(f) c_(t-1) + sigma(i) tanh(g)``, ``h_t = sigma(o) tanh(c_t)``.
    """
    bias = lstm.bias_ih_l0 + lstm.bias_hh_l0
    h = x.new_zeros(x.shape[0], lstm.hidden_size)
    c = x.new_zeros(x.shape[0], lstm.hidden_size)
    outputs = []
    for t in range(x.shape[1]):
        gates = x[:, t] @ lstm.weight_ih_l0.T + h @ lstm.weight_hh_l0.T + bias  # (N, 4H)
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs, dim=1)


class CifarEncoder(nn.Module):
    """FACT's CIFAR encoder (FACT lfxai/models/cifar100_models.py, ``EncoderCIFAR``):
    ``(N, 3, 32, 32)`` -> ``(N, latent_dim)``.

    Four 3x3 convolutions (3-32-64-128-128, padding 1), the first three each followed by a
    LayerNorm over (C, H, W), a ReLU and a 2x2 max-pool; then FC 2048 -> 128 -> latent.
    The sub-module names follow FACT's (``encoder_cnn``, ``encoder_lin``), so its state
    dicts map onto this one key for key.
    """

    def __init__(self, latent_dim: int = 16):
        super().__init__()
        blocks: list[nn.Module] = []
        for c_in, c_out, size in ((3, 32, 32), (32, 64, 16), (64, 128, 8)):
            blocks += [nn.Conv2d(c_in, c_out, 3, stride=1, padding=1), nn.LayerNorm([c_out, size, size]),
                       nn.ReLU(), nn.MaxPool2d(2)]
        # (N, 3, 32, 32) -> (N, 32, 16, 16) -> (N, 64, 8, 8) -> (N, 128, 4, 4) -> (N, 128, 4, 4)
        self.encoder_cnn = nn.Sequential(*blocks, nn.Conv2d(128, 128, 3, stride=1, padding=1), nn.ReLU())
        self.flatten = nn.Flatten()
        self.encoder_lin = nn.Sequential(nn.Linear(128 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, latent_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder_lin(self.flatten(self.encoder_cnn(x)))


class CifarDecoder(nn.Module):
    """FACT's CIFAR decoder (``DecoderCIFAR``): ``(N, latent_dim)`` -> ``(N, 3, 32, 32)`` in
    (0, 1). FC latent -> 128 -> 2048, then three stride-2 3x3 transposed convolutions
    (128-64-32-3, 4 -> 8 -> 16 -> 32 pixels), LayerNorm + ReLU after the first two, a
    sigmoid at the end."""

    def __init__(self, latent_dim: int = 16):
        super().__init__()
        self.decoder_lin = nn.Sequential(nn.Linear(latent_dim, 128), nn.ReLU(), nn.Linear(128, 128 * 4 * 4), nn.ReLU())
        self.unflatten = nn.Unflatten(1, (128, 4, 4))
        self.decoder_conv = nn.Sequential(
            nn.ConvTranspose2d(128, 64, 3, stride=2, padding=1, output_padding=1), nn.LayerNorm([64, 8, 8]), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), nn.LayerNorm([32, 16, 16]), nn.ReLU(),
            nn.ConvTranspose2d(32, 3, 3, stride=2, padding=1, output_padding=1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder_conv(self.unflatten(self.decoder_lin(z))))


class CifarAutoencoder(nn.Module):
    """FACT's CIFAR-10/100 autoencoder (``AutoEncoderCIFAR``): :class:`CifarEncoder` then
    :class:`CifarDecoder`, latent 16 in FACT (experiments/cifar100_from_mnist.py). FACT
    trains it as a denoising autoencoder (``RandomNoise``, std 0.3, MSE against the clean
    image); the noise is added by the trainer (:func:`xairepro.labelfree.train.add_noise`),
    not by this module, so explaining it never sees noise."""

    def __init__(self, latent_dim: int = 16):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = CifarEncoder(latent_dim)
        self.decoder = CifarDecoder(latent_dim)

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
    """The encoder of ``dataset``'s autoencoder (:func:`build_autoencoder`; MNIST by
    default) followed by ``Linear(latent_dim, n_classes)``: logits ``(N, n_classes)``, as
    FACT's ``ClassifierMnist`` / ``ClassifierCIFAR``."""

    def __init__(self, latent_dim: int = 4, n_classes: int = 10, dataset: str = "mnist"):
        super().__init__()
        self.encoder = build_autoencoder(dataset, latent_dim).encoder
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


#: The decoder likelihoods of the VAE objectives (the original's ``rec_dist``).
REC_DISTS = ("bernoulli", "gaussian")


def _reconstruction(logits: torch.Tensor, x: torch.Tensor, rec_dist: str = "bernoulli") -> torch.Tensor:
    """Negative log-likelihood of ``x`` summed over pixels, averaged over the batch:
    Bernoulli (cross-entropy of the logits), or Gaussian as the original writes it (the
    squared error of ``sigmoid(logits)``, unit variance and constants dropped)."""
    if rec_dist == "bernoulli":
        return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    if rec_dist == "gaussian":
        return F.mse_loss(torch.sigmoid(logits), x, reduction="sum") / x.shape[0]
    raise ValueError(f"unknown rec_dist {rec_dist!r}; choose from {REC_DISTS}")


def _log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Elementwise log N(z; mu, exp(logvar))."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu) ** 2 * torch.exp(-logvar))


def beta_vae_loss(logits, x, mu, logvar, beta: float = 1.0, rec_dist: str = "bernoulli") -> torch.Tensor:
    """Reconstruction (``rec_dist``) + beta * KL(q(z|x) || N(0, I)), per example (Higgins et al. 2017)."""
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=1).mean()
    return _reconstruction(logits, x, rec_dist) + beta * kl


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


def beta_tcvae_loss(logits, x, mu, logvar, z, dataset_size: int, beta: float = 1.0,
                    rec_dist: str = "bernoulli") -> torch.Tensor:
    """Reconstruction (``rec_dist``) + MI + beta * TC + dimension-wise KL (alpha = gamma = 1)."""
    terms = beta_tcvae_decomposition(z, mu, logvar, dataset_size)
    return (_reconstruction(logits, x, rec_dist) + terms["mutual_information"] + beta * terms["total_correlation"]
            + terms["dimension_kl"])
