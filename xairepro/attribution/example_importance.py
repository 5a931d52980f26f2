"""Label-free example importance: which training examples explain a test example's latent.

Scores are ``(n_test, n_train)`` matrices, higher = more important, computed for all test
examples at once (the originals loop per example; SimplEx there returns zeros for fewer
than 1,000 test examples and DKNN drops a remainder batch; neither happens here).

* :func:`cosine_scores`: cosine similarity of latents (the "cosine NN" baseline).
* :func:`dknn_scores`: 1 / ||h_test - h_train||^2 (deep k-nearest neighbours' weighting).
* :func:`simplex_scores`: SimplEx (Crabbé et al. 2021) corpus weights: a softmax over the
  training corpus, fitted so that the weighted mean of training latents reconstructs each
  test latent.
* :func:`tracin_scores`: TracIn (Pruthi et al. 2020) with the pretext loss and gradients
  w.r.t. encoder parameters only, summed over saved checkpoints.
* :func:`influence_scores`: influence functions (Koh & Liang 2017) with the inverse
  Hessian-vector products estimated by LiSSA (Agarwal et al. 2017), for every test example
  at once (vectorised Hessian-vector products).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch


def cosine_scores(train_latents: torch.Tensor, test_latents: torch.Tensor) -> torch.Tensor:
    """``(n_test, n_train)`` cosine similarities between latents ``(n, d)``."""
    a = torch.nn.functional.normalize(test_latents.flatten(1), dim=1)
    b = torch.nn.functional.normalize(train_latents.flatten(1), dim=1)
    return a @ b.T


def dknn_scores(train_latents: torch.Tensor, test_latents: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """``(n_test, n_train)`` inverse squared distances ``1 / (||h_test - h_train||^2 + eps)``."""
    return 1.0 / (torch.cdist(test_latents.flatten(1), train_latents.flatten(1)) ** 2 + eps)


def simplex_scores(
    train_latents: torch.Tensor,
    test_latents: torch.Tensor,
    n_epochs: int = 2000,
    lr: float = 0.5,
    seed: int = 0,
) -> torch.Tensor:
    """SimplEx corpus weights ``(n_test, n_train)``, each row a softmax summing to 1.

    Minimises ``sum_j ||h_j - softmax(theta_j) @ H_train||^2`` over ``theta`` ``(n_test,
    n_train)`` with Adam, all test examples at once.
    """
    generator = torch.Generator().manual_seed(seed)
    train = train_latents.flatten(1).detach()
    test = test_latents.flatten(1).detach()
    # drawn on the CPU (the generator's device), then moved: the same start on any device
    theta = torch.zeros(test.shape[0], train.shape[0]).normal_(0, 0.01, generator=generator)
    theta = theta.to(train.device).requires_grad_(True)
    optimizer = torch.optim.Adam([theta], lr=lr)
    for _ in range(n_epochs):
        optimizer.zero_grad()
        reconstruction = torch.softmax(theta, dim=1) @ train  # (n_test, d)
        loss = ((reconstruction - test) ** 2).sum()
        loss.backward()
        optimizer.step()
    return torch.softmax(theta.detach(), dim=1)


def per_sample_gradients(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    params: Sequence[str],
    chunk_size: int = 64,
) -> torch.Tensor:
    """Flattened gradients of each sample's loss w.r.t. the named parameters, ``(N, P)``.

    ``loss_fn(model, x)`` returns the scalar pretext loss of a batch ``x`` of one sample
    (e.g. reconstruction error); vectorised with :func:`torch.func.vmap`.
    """
    from torch.func import functional_call, grad, vmap

    named = dict(model.named_parameters())
    trainable = {name: named[name].detach() for name in params}
    frozen = {name: p.detach() for name, p in named.items() if name not in trainable}
    buffers = dict(model.named_buffers())

    def sample_loss(weights: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        call = lambda batch: functional_call(model, ({**frozen, **weights}, buffers), (batch,))  # noqa: E731
        return loss_fn(call, x.unsqueeze(0))

    per_sample = vmap(grad(sample_loss), in_dims=(None, 0))
    rows = []
    for x in inputs.split(chunk_size):
        grads = per_sample(trainable, x)  # name -> (chunk, *param_shape)
        rows.append(torch.cat([grads[name].flatten(1) for name in params], dim=1))
    return torch.cat(rows)


def tracin_scores(
    model: torch.nn.Module,
    checkpoints: Sequence[tuple[Mapping[str, torch.Tensor], float]],
    loss_fn: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor],
    train_inputs: torch.Tensor,
    test_inputs: torch.Tensor,
    params: Sequence[str],
) -> torch.Tensor:
    """Label-free TracIn: ``sum_c lr_c <grad L(z_train), grad L(z_test)>``, ``(n_test, n_train)``.

    Parameters
    ----------
    checkpoints
        ``(state_dict, learning_rate)`` of each saved checkpoint.
    loss_fn
        ``loss_fn(model_call, x) -> scalar`` pretext loss of a one-sample batch.
    params
        Names of the encoder parameters the gradients are taken with respect to.
    """
    scores = torch.zeros(len(test_inputs), len(train_inputs), device=test_inputs.device)
    for state, lr in checkpoints:
        model.load_state_dict(state)
        g_train = per_sample_gradients(model, loss_fn, train_inputs, params)
        g_test = per_sample_gradients(model, loss_fn, test_inputs, params)
        scores += lr * (g_test @ g_train.T)
    return scores


def _flat_loss(model: torch.nn.Module, loss_fn, params: Sequence[str]):
    """``(theta0, f)``: the named parameters flattened, and ``f(theta, batch) -> loss``."""
    from torch.func import functional_call

    named = dict(model.named_parameters())
    shapes = [named[name].shape for name in params]
    sizes = [named[name].numel() for name in params]
    theta0 = torch.cat([named[name].detach().flatten() for name in params])
    frozen = {name: p.detach() for name, p in named.items() if name not in params}
    buffers = dict(model.named_buffers())

    def loss(theta: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        weights = {name: chunk.view(shape) for name, chunk, shape in zip(params, theta.split(sizes), shapes)}
        call = lambda x: functional_call(model, ({**frozen, **weights}, buffers), (x,))  # noqa: E731
        return loss_fn(call, batch)

    return theta0, loss


def lissa_inverse_hvp(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor],
    params: Sequence[str],
    vectors: torch.Tensor,
    batches: Sequence[torch.Tensor],
    depth: int,
    damping: float = 1e-3,
    scale: float = 1000.0,
) -> torch.Tensor:
    """LiSSA estimate of ``(H + damping * scale * I)^-1 v`` for each row of ``vectors``.

    The recursion ``h <- v + (1 - damping) h - H_b h / scale`` (``H_b`` the Hessian of the
    loss on minibatch ``b``, cycling through ``batches``) has the fixed point
    ``scale * (H + damping * scale * I)^-1 v``; it converges when ``scale`` exceeds the
    Hessian's largest eigenvalue. ``vectors``: ``(n, P)``; returns ``(n, P)``.
    """
    from torch.func import grad, jvp, vmap

    theta, loss = _flat_loss(model, loss_fn, params)
    estimate = vectors.clone()
    for step in range(depth):
        batch = batches[step % len(batches)]
        gradient = grad(lambda t: loss(t, batch))
        hvp = vmap(lambda v: jvp(gradient, (theta,), (v,))[1])(estimate)  # (n, P)
        estimate = vectors + (1 - damping) * estimate - hvp / scale
    return estimate / scale


def influence_scores(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor],
    train_inputs: torch.Tensor,
    test_inputs: torch.Tensor,
    params: Sequence[str],
    depth: int = 100,
    damping: float = 1e-3,
    scale: float = 1000.0,
    batch_size: int = 32,
    seed: int = 0,
) -> torch.Tensor:
    """Label-free influence ``-grad L(z_test)^T H^-1 grad L(z_train)``, ``(n_test, n_train)``.

    Sign convention: positive means up-weighting the training example would *lower* the
    test example's pretext loss (a helpful example), so higher = more important as for
    the other scores. ``depth``, ``damping`` and ``scale`` are LiSSA's knobs (the
    original's defaults: damping 1e-3, scale 1000).
    """
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(train_inputs), generator=generator)
    batches = [train_inputs[idx] for idx in order.split(batch_size)]
    g_test = per_sample_gradients(model, loss_fn, test_inputs, params)  # (n_test, P)
    g_train = per_sample_gradients(model, loss_fn, train_inputs, params)  # (n_train, P)
    inverse = lissa_inverse_hvp(model, loss_fn, params, g_test, batches, depth, damping, scale)
    return inverse @ g_train.T


def similarity_rate(scores: torch.Tensor, train_labels: torch.Tensor, test_labels: torch.Tensor,
                    k: int, most_important: bool = True) -> float:
    """Share of the k most (or least) important training examples that share the test label.

    The example-importance consistency metric of the paper (Sec. 4.1, Fig. 2).
    """
    top = scores.topk(k, dim=1, largest=most_important).indices  # (n_test, k)
    return float((train_labels[top] == test_labels.unsqueeze(1)).float().mean())
