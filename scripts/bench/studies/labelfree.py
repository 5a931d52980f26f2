"""Benchmark hooks of the ``labelfree`` study (the contract: scripts/bench/bench_hooks.py).

Kernels: label-free Integrated Gradients (50 steps), Gradient SHAP (5 samples) and
Saliency of the MNIST autoencoder's encoder, batched vs one image at a time (the
original explains image batches too, but its wrappers re-tile f(x) per call; the
reference here is the one-image loop a user would write), against the encoder's batched
forward + backward of <f(x), f(x)> (one IG step's cost per image).
"""

from __future__ import annotations

import torch

from xairepro.attribution.label_free import GradientShap, IntegratedGradients, LabelFreeFeatureImportance, Saliency
from xairepro.common.bench import epoch_seconds
from xairepro.labelfree.models import BurgessVAE, CifarAutoencoder, MnistAutoencoder, RecurrentAutoencoder


def kernels(device: str = "cpu", n: int = 64) -> list[dict]:
    torch.manual_seed(0)
    model = MnistAutoencoder(4).to(device).eval()
    x = torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(0)).to(device)
    black = torch.zeros(1, 1, 28, 28, device=device)
    methods = {
        "integrated_gradients": (IntegratedGradients, {"baselines": black, "n_steps": 50}),
        "gradient_shap": (GradientShap, {"baselines": black, "n_samples": 5}),
        "saliency": (Saliency, {"abs": True}),
    }

    def fwd_bwd():
        inputs = x.detach().requires_grad_(True)
        z = model.encode(inputs)
        (z * z.detach()).sum().backward()

    out = []
    for name, (method, kwargs) in methods.items():
        explainer = LabelFreeFeatureImportance(model.encode, method)

        def call(batch, explainer=explainer, kwargs=kwargs):
            if "n_steps" in kwargs:
                return explainer.attribute(batch, **{**kwargs, "baselines": kwargs["baselines"].expand_as(batch)},
                                           internal_batch_size=len(batch))
            return explainer.attribute(batch, **kwargs, internal_batch_size=len(batch))

        out.append({"name": f"labelfree/{name}", "n": n, "batched": lambda call=call: call(x),
                    "reference": lambda call=call: [call(x[i : i + 1]) for i in range(n)], "fwd_bwd": fwd_bwd})
    return out


def _epoch(name, model, batch, loss, n_train, batch_size, max_batches, device, published=None):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(_):
        optimizer.zero_grad()
        loss(model, batch).backward()
        optimizer.step()

    batches = -(-n_train // batch_size)
    seconds, timed = epoch_seconds(step, batches, max_batches, device)
    return {"name": name, "seconds": seconds, "batches": batches, "timed_batches": timed,
            "published_seconds": published}


def paper_epoch(device: str = "cuda", max_batches: int | None = None) -> list[dict]:
    """One epoch per paper-shaped model: MNIST autoencoder (54,000 training images, batch
    200), ECG LSTM autoencoder (2,627 normal beats, batch 300), CIFAR autoencoder (45,000,
    batch 200), dSprites Burgess VAE (737,280 sprites, batch 64; FACT's setting)."""
    g = torch.Generator().manual_seed(0)
    mse = lambda m, b: torch.nn.functional.mse_loss(m(b), b)  # noqa: E731
    l1 = lambda m, b: torch.nn.functional.l1_loss(m(b), b)  # noqa: E731

    def vae_loss(m, b):
        logits, mu, logvar, _ = m(b)
        rec = torch.nn.functional.binary_cross_entropy_with_logits(logits, b, reduction="sum") / len(b)
        return rec + 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1).mean()

    return [
        _epoch("labelfree/mnist_autoencoder", MnistAutoencoder(4).to(device).train(),
               torch.rand(200, 1, 28, 28, generator=g).to(device), mse, 54000, 200, max_batches, device),
        _epoch("labelfree/ecg_lstm_autoencoder", RecurrentAutoencoder(64).to(device).train(),
               torch.randn(300, 1, 140, generator=g).to(device), l1, 2627, 300, max_batches, device),
        _epoch("labelfree/cifar_autoencoder", CifarAutoencoder(16).to(device).train(),
               torch.rand(300, 3, 32, 32, generator=g).to(device), mse, 45000, 300, max_batches, device),
        _epoch("labelfree/dsprites_vae", BurgessVAE(6, 64).to(device).train(),
               (torch.rand(64, 1, 64, 64, generator=g) > 0.5).float().to(device), vae_loss, 737280, 64,
               max_batches, device),
    ]
