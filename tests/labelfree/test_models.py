import pytest
import torch

from xairepro.labelfree.models import (
    BurgessVAE, MnistAutoencoder, beta_tcvae_decomposition, beta_tcvae_loss, beta_vae_loss,
)


def test_autoencoder_shapes_and_range():
    model = MnistAutoencoder(latent_dim=4).eval()
    x = torch.rand(5, 1, 28, 28)
    assert model.encode(x).shape == (5, 4)
    out = model(x)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("size", [32, 64])
def test_burgess_vae_shapes(size):
    model = BurgessVAE(latent_dim=3, size=size).train()
    logits, mu, logvar, z = model(torch.rand(4, 1, size, size))
    assert logits.shape == (4, 1, size, size) and mu.shape == logvar.shape == z.shape == (4, 3)
    assert not torch.equal(z, mu)  # sampled in training mode
    model.eval()
    _, mu, _, z = model(torch.rand(2, 1, size, size))
    assert torch.equal(z, mu)  # the mean in evaluation mode
    with pytest.raises(ValueError):
        BurgessVAE(size=28)


def test_tcvae_terms_add_up_to_the_sampled_kl():
    torch.manual_seed(0)
    mu, logvar = torch.randn(16, 3), torch.randn(16, 3) * 0.3
    z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
    terms = beta_tcvae_decomposition(z, mu, logvar, dataset_size=1000)
    normal = torch.distributions.Normal
    sampled_kl = (normal(mu, torch.exp(0.5 * logvar)).log_prob(z) - normal(0.0, 1.0).log_prob(z)).sum(1).mean()
    torch.testing.assert_close(sum(terms.values()), sampled_kl, rtol=1e-5, atol=1e-5)


def test_beta_weights_only_the_total_correlation():
    torch.manual_seed(1)
    x = torch.rand(8, 1, 32, 32).round()
    logits = torch.randn(8, 1, 32, 32)
    mu, logvar = torch.randn(8, 3), torch.zeros(8, 3)
    z = mu + torch.randn_like(mu)
    tc = beta_tcvae_decomposition(z, mu, logvar, 100)["total_correlation"]
    gap = beta_tcvae_loss(logits, x, mu, logvar, z, 100, beta=5.0) - beta_tcvae_loss(logits, x, mu, logvar, z, 100)
    torch.testing.assert_close(gap, 4.0 * tc, rtol=1e-4, atol=1e-3)
    kl_gap = beta_vae_loss(logits, x, mu, logvar, beta=3.0) - beta_vae_loss(logits, x, mu, logvar, beta=1.0)
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1).mean()
    torch.testing.assert_close(kl_gap, 2.0 * kl, rtol=1e-4, atol=1e-3)


def test_autoencoder_learns_to_reconstruct_digits():
    from sklearn.datasets import load_digits

    torch.manual_seed(0)
    digits = torch.from_numpy(load_digits().images[:128] / 16.0).float().unsqueeze(1)
    x = torch.nn.functional.interpolate(digits, size=(28, 28), mode="bilinear")
    mean_image_error = ((x - x.mean(0, keepdim=True)) ** 2).mean().item()
    model = MnistAutoencoder(latent_dim=4)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-5)
    for _ in range(60):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), x)
        loss.backward()
        optimizer.step()
    # a 4-number code must already beat the best input-independent guess, the mean image
    assert loss.item() < 0.8 * mean_image_error
