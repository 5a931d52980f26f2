import pytest
import torch
import torch.nn.functional as F

from xairepro.attribution.loss_gradient import LossGradient
from xairepro.lossgrad.models import Net, per_sample_loss


def nll(out, y):
    return F.nll_loss(out, y, reduction="none")


def test_loss_gradient_matches_closed_form_on_linear_model(linear_softmax):
    x = torch.randn(7, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    grads = LossGradient(linear_softmax, nll).attribute(x, target=y)
    with torch.no_grad():
        p = torch.softmax(x.flatten(1) @ linear_softmax.weight.T + linear_softmax.bias, dim=1)
        expected = (p - F.one_hot(y, 3).float()) @ linear_softmax.weight  # (N, 16)
    torch.testing.assert_close(grads.flatten(1), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("classifier_type,num_classes", [("softmax", 10), ("softmax", 2), ("sigmoid", 2)],
                         ids=["softmax10", "softmax2", "sigmoid2"])
def test_batched_loss_gradient_equals_per_sample_autograd(classifier_type, num_classes):
    torch.manual_seed(0)
    model = Net(num_classes, classifier_type, 4, 8, 16).eval()
    x = torch.randn(12, 1, 28, 28)
    y = torch.randint(0, num_classes, (12,))
    batched = LossGradient(model, lambda o, t: per_sample_loss(o, t, classifier_type)).attribute(x, target=y)
    reference = []
    for i in range(len(x)):  # the original's pattern: one sample, one backward pass
        xi = x[i : i + 1].clone().requires_grad_(True)
        loss = per_sample_loss(model(xi), y[i : i + 1], classifier_type).sum()
        reference.append(torch.autograd.grad(loss, xi)[0])
    torch.testing.assert_close(batched, torch.cat(reference), rtol=1e-4, atol=1e-7)


def test_internal_batch_size_does_not_change_gradients(linear_softmax):
    x = torch.randn(10, 16)
    y = torch.randint(0, 3, (10,))
    explainer = LossGradient(linear_softmax, nll)
    whole = explainer.attribute(x, target=y)
    for step in (1, 3, 10, 64):
        torch.testing.assert_close(explainer.attribute(x, target=y, internal_batch_size=step), whole)


def test_loss_func_must_be_per_sample(linear_softmax):
    explainer = LossGradient(linear_softmax, lambda o, t: F.nll_loss(o, t))  # mean: a scalar
    with pytest.raises(ValueError, match="one loss per sample"):
        explainer.attribute(torch.randn(4, 16), target=torch.zeros(4, dtype=torch.long))
