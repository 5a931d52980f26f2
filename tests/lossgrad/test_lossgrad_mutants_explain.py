"""The lossgrad explainers' plumbing, exactly (issue 24: written against mutmut's survivors):
the loss each one differentiates, what reaches captum, the progress line, and the benchmark's
arithmetic under a fake clock."""

import logging
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from xairepro.lossgrad import explain
from xairepro.lossgrad.data import ExcerptSet
from xairepro.lossgrad.explain import NetLossGradient, SVDLossGradient, benchmark_gradients, gradient_loss
from xairepro.lossgrad.models import Net, SVDNet

TINY_NET = {"conv1_channels": 2, "conv2_channels": 2, "hidden_units": 4}
TINY_SVD = {"conv1": 2, "conv2": 2, "conv3": 2, "conv4": 2, "fc1": 3, "fc2": 2}


def _digits(n=5):
    torch.manual_seed(0)
    return torch.rand(n, 1, 28, 28), torch.tensor([0, 2, 1, 2, 0])[:n]


def test_net_loss_gradient_of_a_softmax_head_is_the_nll_gradient():
    torch.manual_seed(0)
    net = Net(num_classes=3, classifier_type="softmax", **TINY_NET).eval()
    x, y = _digits()
    explainer = NetLossGradient(net)
    assert explainer.model is net
    reference = x.clone().requires_grad_(True)
    torch.nn.functional.nll_loss(net(reference), y, reduction="sum").backward()
    torch.testing.assert_close(explainer.attribute(x, target=y), reference.grad)


class _Spy:
    """Records what an explainer hands to the captum-side LossGradient."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def attribute(self, inputs, target, internal_batch_size=None):
        self.calls.append((inputs, target, internal_batch_size))
        return self.inner.attribute(inputs, target=target, internal_batch_size=internal_batch_size)


def test_net_loss_gradient_passes_inputs_labels_and_batch_size_through():
    torch.manual_seed(0)
    net = Net(num_classes=3, classifier_type="softmax", **TINY_NET).eval()
    x, y = _digits()
    explainer = NetLossGradient(net)
    spy = explainer._explainer = _Spy(explainer._explainer)
    explainer.attribute(x, target=y, internal_batch_size=2)
    explainer.attribute(x, target=y)
    (x1, y1, b1), (x2, y2, b2) = spy.calls
    assert x1 is x and y1 is y and b1 == 2
    assert x2 is x and y2 is y and b2 is None


def test_gradient_loss_is_bce_against_the_hard_label():
    prob, labels = torch.tensor([0.5, 0.25, 0.75]), torch.tensor([1.0, 0.0, 1.0])
    torch.testing.assert_close(gradient_loss(prob, labels),
                               torch.tensor([-np.log(0.5), -np.log(0.75), -np.log(0.75)], dtype=torch.float32))


def _excerpts(n=7, bands=80, blocklen=115):
    rng = np.random.default_rng(0)
    spect = rng.normal(size=(n, bands)).astype(np.float32)
    return ExcerptSet(spect, np.array([0, 3, n]), spect.mean(0), spect.std(0), blocklen=blocklen)


def test_svd_loss_gradient_keeps_its_model_and_device():
    torch.manual_seed(0)
    model = SVDNet(**TINY_SVD).eval()
    explainer = SVDLossGradient(model)
    assert explainer.model is model and explainer.device == "cpu"


def test_svd_loss_gradient_sends_each_batch_and_its_labels_to_the_device():
    explainer = SVDLossGradient(SVDNet(**TINY_SVD).eval(), device="meta")
    seen = []

    class Spy:  # stands in for the captum-side LossGradient: records where each batch went
        def attribute(self, x, target):
            seen.append((x.device.type, target.device.type, target.dtype, tuple(x.shape)))
            return torch.full((x.shape[0], 1, 115, 80), float(len(seen)))

    explainer._explainer = Spy()
    out = explainer.attribute(_excerpts(), target=np.array([1, 0, 1, 1, 0, 0, 1]), internal_batch_size=3)
    # integer labels reach the loss as float32, the dtype of the network's probabilities
    assert seen == [("meta", "meta", torch.float32, (3, 1, 115, 80)), ("meta", "meta", torch.float32, (3, 1, 115, 80)),
                    ("meta", "meta", torch.float32, (1, 1, 115, 80))]
    assert out[:, 0, 0].tolist() == [1, 1, 1, 2, 2, 2, 3]  # batch b's gradients land on its excerpts


def test_svd_loss_gradient_logs_its_progress(monkeypatch, caplog):
    monkeypatch.setenv("XAIREPRO_PROGRESS", "1")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)  # the rule-log form of the bar, even under -s
    torch.manual_seed(0)
    explainer = SVDLossGradient(SVDNet(**TINY_SVD).eval())
    with caplog.at_level(logging.INFO, logger="xairepro"):
        out = explainer.attribute(_excerpts(), target=np.array([1, 0, 1, 1, 0, 0, 1]), internal_batch_size=3)
    assert out.shape == (7, 115, 80) and out.dtype == np.float32
    text = caplog.text
    assert "loss gradients: 100%" in text and "| 3/3 [" in text, text


# --------------------------------------------------------------------------- benchmark_gradients


class _Clock:
    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


# seconds each timed pass takes, per batch size, repeat after repeat (binary fractions: exact)
DURATIONS = {3: [0.5, 0.25, 1.0, 0.125], 1: [2.0, 4.0, 1.75, 0.0625]}


def _fake_explainer(clock, log):
    class FakeSVDLossGradient:
        def __init__(self, model):
            log.append(("model", model))
            self.timed = {3: 0, 1: 0}

        def attribute(self, inputs, target, internal_batch_size):
            log.append((len(inputs), list(target), internal_batch_size))
            if len([entry for entry in log if entry[0] != "model"]) > 2:  # the first two are the warm-ups
                clock.now += DURATIONS[internal_batch_size][self.timed[internal_batch_size]]
                self.timed[internal_batch_size] += 1
            else:
                clock.now += 100.0
            return np.full((len(inputs), 2), 1.0 if internal_batch_size == 1 else 1.25, dtype=np.float32)

    return FakeSVDLossGradient


@pytest.fixture
def fake_benchmark(monkeypatch):
    clock, log = _Clock(), []
    monkeypatch.setattr(explain, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    monkeypatch.setattr(explain, "SVDLossGradient", _fake_explainer(clock, log))
    return log


def test_benchmark_gradients_times_three_alternating_repeats_and_keeps_the_best(fake_benchmark):
    model = object()
    labels = np.array([1, 0, 1, 1, 0, 0, 1, 1, 0, 1])
    result = benchmark_gradients(model, _excerpts(10, bands=2, blocklen=3), labels, batch_size=3, n_excerpts=7)
    first7 = labels[:7].tolist()
    assert fake_benchmark == [("model", model),
                              (6, first7, 3), (2, first7, 1),  # warm-ups: min(n, 2 * batch size) excerpts
                              (7, first7, 3), (7, first7, 1), (7, first7, 3), (7, first7, 1),
                              (7, first7, 3), (7, first7, 1)]
    # best of 0.5, 0.25, 1.0 s and of 2.0, 4.0, 1.75 s for 7 excerpts
    assert result == {"n_excerpts": 7, "batch_size": 3, "batched_excerpts_per_s": 28.0,
                      "batch1_excerpts_per_s": 4.0, "speedup": 7.0, "max_abs_diff": 0.25}


def test_benchmark_gradients_caps_the_excerpts_at_the_set_and_takes_repeats(fake_benchmark):
    labels = np.arange(5) % 2
    result = benchmark_gradients(None, _excerpts(5, bands=2, blocklen=3), labels, batch_size=3, n_excerpts=50,
                                 repeats=4)
    assert [entry[0] for entry in fake_benchmark] == ["model", 5, 2] + [5] * 8
    # best of 0.5, 0.25, 1.0, 0.125 s and of 2.0, 4.0, 1.75, 0.0625 s for 5 excerpts
    assert result == {"n_excerpts": 5, "batch_size": 3, "batched_excerpts_per_s": 40.0,
                      "batch1_excerpts_per_s": 80.0, "speedup": 0.5, "max_abs_diff": 0.25}
