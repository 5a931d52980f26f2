"""Example-importance scores recover planted neighbours, mixtures and gradient alignments."""

import torch

from xairepro.attribution.example_importance import (
    _flat_loss, cosine_scores, dknn_scores, influence_scores, lissa_inverse_hvp, per_sample_gradients,
    similarity_rate, simplex_scores, tracin_scores,
)


def clustered_latents(seed=0):
    """Two well-separated clusters; labels = cluster."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[5.0, 0.0, 0.0], [-5.0, 0.0, 0.0]])
    labels = torch.arange(40) % 2
    latents = centres[labels] + 0.3 * torch.randn(40, 3, generator=generator)
    return latents, labels


def test_dknn_and_cosine_rank_the_planted_neighbour_first():
    train = torch.randn(30, 4, generator=torch.Generator().manual_seed(1))
    test = train[[3, 17]] + 1e-3  # planted: each test latent is (almost) a training latent
    assert dknn_scores(train, test).argmax(1).tolist() == [3, 17]
    assert cosine_scores(train, test).argmax(1).tolist() == [3, 17]


def test_similarity_rate_separates_most_and_least_important():
    latents, labels = clustered_latents()
    train, test = latents[:30], latents[30:]
    scores = dknn_scores(train, test)
    assert similarity_rate(scores, labels[:30], labels[30:], k=5) == 1.0
    assert similarity_rate(scores, labels[:30], labels[30:], k=5, most_important=False) == 0.0


def test_simplex_recovers_a_planted_mixture_for_few_test_examples():
    train = torch.randn(8, 5, generator=torch.Generator().manual_seed(2))
    weights = torch.zeros(3, 8)
    weights[0, [0, 1]] = 0.5
    weights[1, 4] = 1.0
    weights[2, [2, 5, 7]] = torch.tensor([0.2, 0.3, 0.5])
    test = weights @ train  # planted convex combinations; 3 test examples (< 1000) must work
    fitted = simplex_scores(train, test, n_epochs=500, lr=0.3)
    torch.testing.assert_close(fitted.sum(1), torch.ones(3))
    torch.testing.assert_close(fitted @ train, test, atol=2e-2, rtol=0)
    assert fitted[1].argmax() == 4 and set(fitted[2].topk(3).indices.tolist()) == {2, 5, 7}


class TinyAutoencoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Linear(4, 2)
        self.decoder = torch.nn.Linear(2, 4)

    def forward(self, x):
        return self.decoder(torch.tanh(self.encoder(x)))


def reconstruction_loss(call, x):
    return ((call(x) - x) ** 2).sum()


def test_per_sample_gradients_match_a_loop_and_ignore_the_decoder():
    torch.manual_seed(0)
    model = TinyAutoencoder()
    x = torch.randn(5, 4)
    params = ["encoder.weight", "encoder.bias"]
    batched = per_sample_gradients(model, reconstruction_loss, x, params, chunk_size=2)
    assert batched.shape == (5, 2 * 4 + 2)
    for i in range(5):
        model.zero_grad()
        reconstruction_loss(model, x[i : i + 1]).backward()
        expected = torch.cat([model.encoder.weight.grad.flatten(), model.encoder.bias.grad])
        torch.testing.assert_close(batched[i], expected, rtol=1e-5, atol=1e-6)


def test_tracin_sums_learning_rate_weighted_gradient_products_over_checkpoints():
    torch.manual_seed(0)
    model = TinyAutoencoder()
    train, test = torch.randn(6, 4), torch.randn(2, 4)
    params = ["encoder.weight", "encoder.bias"]
    first = {k: v.clone() for k, v in model.state_dict().items()}
    second = {k: v + 0.1 for k, v in first.items()}
    scores = tracin_scores(model, [(first, 0.5), (second, 0.25)], reconstruction_loss, train, test, params)
    expected = torch.zeros(2, 6)
    for state, lr in ((first, 0.5), (second, 0.25)):
        model.load_state_dict(state)
        g_train = per_sample_gradients(model, reconstruction_loss, train, params)
        g_test = per_sample_gradients(model, reconstruction_loss, test, params)
        expected += lr * g_test @ g_train.T
    torch.testing.assert_close(scores, expected)
    # on the training set itself the scores are a Gram matrix: symmetric, non-negative diagonal
    gram = tracin_scores(model, [(first, 1.0)], reconstruction_loss, train, train, params)
    torch.testing.assert_close(gram, gram.T)
    assert (gram.diagonal() >= 0).all()


class LinearAutoencoder(TinyAutoencoder):
    """No non-linearity: the loss is quadratic, hence convex, in the encoder parameters."""

    def forward(self, x):
        return self.decoder(self.encoder(x))


def test_lissa_converges_to_the_damped_inverse_hessian_product():
    torch.manual_seed(0)
    model = LinearAutoencoder()
    data = torch.randn(16, 4)
    params = ["encoder.weight", "encoder.bias"]
    theta, loss = _flat_loss(model, reconstruction_loss, params)
    hessian = torch.autograd.functional.hessian(lambda t: loss(t, data), theta)  # exact, (P, P)
    vectors = torch.randn(3, theta.numel())
    scale = 2.0 * torch.linalg.eigvalsh(hessian).abs().max().item()
    damping = 0.05
    estimate = lissa_inverse_hvp(model, reconstruction_loss, params, vectors, [data], depth=600,
                                 damping=damping, scale=scale)
    exact = torch.linalg.solve(hessian + damping * scale * torch.eye(theta.numel()), vectors.T).T
    torch.testing.assert_close(estimate, exact, rtol=1e-3, atol=1e-4)


def test_influence_scores_use_the_inverse_hessian_between_test_and_train_gradients():
    torch.manual_seed(0)
    model = TinyAutoencoder()
    train, test = torch.randn(12, 4), torch.randn(3, 4)
    params = ["encoder.weight", "encoder.bias"]
    scores = influence_scores(model, reconstruction_loss, train, test, params, depth=50, damping=0.01,
                              scale=500.0, batch_size=12)
    g_train = per_sample_gradients(model, reconstruction_loss, train, params)
    g_test = per_sample_gradients(model, reconstruction_loss, test, params)
    inverse = lissa_inverse_hvp(model, reconstruction_loss, params, g_test, [train], 50, 0.01, 500.0)
    torch.testing.assert_close(scores, inverse @ g_train.T)
    assert scores.shape == (3, 12)
