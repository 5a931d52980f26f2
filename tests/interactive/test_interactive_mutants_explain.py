"""Closed forms that kill the mutants of xairepro/interactive/explain.py (issue 24, `make
mutation`, docs/testing.md): each heatmap method equal to captum's called as documented
(defaults included, batch limits honoured), captum's display normalisation at its 98 %
boundary, region mass and Quantus scores of hand-made maps, area resizing at the quarter
threshold, the projection's learning-rate schedule and loss gradients, and LatentMoves
against its parts on a tiny generator. The tables' mutants: test_interactive_mutants.py."""

import math
import warnings

import numpy as np
import pytest
import torch
from captum.attr import GuidedBackprop, GuidedGradCam, IntegratedGradients, NoiseTunnel, Saliency
from torch import nn
from torchvision.models.vgg import cfgs, make_layers

from xairepro.interactive import data as D
from xairepro.interactive import explain as E
from xairepro.interactive.explain import (METHODS, LatentMoves, _VGGFeatures, explain, localisation, map_correlation,
                                          move_and_render, normalise, project, region_mass, resize_regions)
from xairepro.interactive.models import to_unit


# --------------------------------------------------------------------------- heatmaps
class TinyNet(nn.Module):
    """conv, ReLU, ``layer4`` (one conv block), mean pool, two logits; records each batch size."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.layer4 = nn.Sequential(nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU()))
        self.fc = nn.Linear(4, 2)
        self.batches = []

    def forward(self, x):
        self.batches.append(len(x))
        return self.fc(self.layer4(self.relu(self.conv(x))).mean((2, 3)))


def images():
    return torch.randn(2, 3, 6, 6, generator=torch.Generator().manual_seed(1))


def grad_input(x):
    return x.clone().requires_grad_(True)


def same(got, want):
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-6, atol=1e-9)


def test_explain_defaults_are_captums_methods_on_logit_0():
    model, x = TinyNet(), images()
    torch.manual_seed(5)
    got = explain(model, x)
    assert list(got) == list(METHODS) and not model.training
    torch.manual_seed(5)  # only the noise tunnel draws
    same(got["integrated_gradients"], IntegratedGradients(model).attribute(grad_input(x), target=0, n_steps=200))
    same(got["saliency_smoothgrad_sq"], NoiseTunnel(Saliency(model)).attribute(
        grad_input(x), target=0, nt_type="smoothgrad_sq", nt_samples=200))
    same(got["guided_backprop"], GuidedBackprop(model).attribute(grad_input(x), target=0))
    same(got["guided_gradcam"], GuidedGradCam(model, model.layer4[0]).attribute(grad_input(x), target=0))


def test_explain_honours_target_steps_and_batch_limits():
    model, x = TinyNet(), images()
    got = explain(model, x, ["integrated_gradients"], n_steps=10, internal_batch_size=4, target=1)
    assert max(model.batches) <= 4 and sum(model.batches) == 2 * 10
    same(got["integrated_gradients"], IntegratedGradients(model).attribute(grad_input(x), target=1, n_steps=10))
    model.batches.clear()
    torch.manual_seed(3)
    got = explain(model, x, ["saliency_smoothgrad_sq"], nt_samples=6, nt_samples_batch_size=2, nt_type="smoothgrad",
                  target=1)
    assert model.batches == [4, 4, 4]  # 2 samples of the 2 images at a time
    torch.manual_seed(3)
    same(got["saliency_smoothgrad_sq"], NoiseTunnel(Saliency(model)).attribute(
        grad_input(x), target=1, nt_type="smoothgrad", nt_samples=6, nt_samples_batch_size=2))
    got = explain(model, x, ["guided_backprop", "guided_gradcam", "gradient"], target=1)
    same(got["guided_backprop"], GuidedBackprop(model).attribute(grad_input(x), target=1))
    same(got["guided_gradcam"], GuidedGradCam(model, model.layer4[0]).attribute(grad_input(x), target=1))
    # the plain gradient keeps its sign
    same(got["gradient"], Saliency(model).attribute(grad_input(x), target=1, abs=False))
    assert (got["gradient"] < 0).any()


def test_explain_names_the_methods_it_knows():
    with pytest.raises(ValueError, match=r"unknown heatmap method 'lime'; choose from \(.*'guided_gradcam', "
                                         r"'gradient'\)"):
        explain(TinyNet(), images(), ["lime"])


def planted_sums(sign):
    """196 |values| summing to 100: 194 of 0.5, one 1 and one 2 (signed ``sign``): the sorted
    cumulative sum reaches 97 at the last 0.5, 98 exactly at the 1 and 100 at the 2."""
    values = np.array([0.5] * 194 + [1.0, 2.0 * sign])
    values[:194:3] *= -1  # signs do not enter the threshold
    return np.random.default_rng(0).permutation(values).reshape(14, 14)


def test_normalise_threshold_at_the_98_percent_boundary():
    up, down = planted_sums(1.0), planted_sums(-1.0)
    cancel = np.stack([up, -up])  # channels that cancel: nothing to divide by
    tiny = np.full((2, 14, 14), 1e-10)  # under np.allclose's 1e-8: the original's all-zero test
    maps = np.stack([np.zeros((2, 14, 14)), cancel, tiny, np.stack([0.75 * up, 0.25 * up]),
                     np.stack([0.25 * down, 0.75 * down])])
    got = normalise(maps)
    assert got.shape == (5, 14, 14) and got.dtype == np.float32
    assert not got[:3].any()
    # 98 % of 100 is reached exactly at the value 1: the map divided by 1, the 2 clipped to +-1
    np.testing.assert_array_equal(got[3], np.clip(up, -1, 1))
    np.testing.assert_array_equal(got[4], np.clip(down, -1, 1))
    assert got[3].max() == 1.0 and got[4].min() == -1.0
    # 97 % is reached at the last 0.5, 99 % at the 2
    np.testing.assert_array_equal(normalise(maps[3:4], outlier_perc=3.0)[0], np.clip(up / 0.5, -1, 1))
    np.testing.assert_array_equal(normalise(maps[3:4], outlier_perc=1.0)[0], up / 2.0)


def test_region_mass_closed_form_and_no_mass_without_warnings():
    maps = np.array([[[1.0, -1.0], [0.0, 2.0]], [[0.0, 0.0], [0.0, 0.0]], [[0.25, 0.0], [0.0, -0.25]]])
    regions = np.array([[[1, 0], [0, 1]], [[0, 0], [0, 1]], [[1, 0], [0, 0]]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mass, area = region_mass(maps, regions)
    # |1| + |2| of |1| + |-1| + |2|; no mass on a zero map; a total under 1 is still a total
    assert mass[0] == 0.75 and np.isnan(mass[1]) and mass[2] == 0.5
    assert area.tolist() == [0.5, 0.25, 0.25]


def test_localisation_scores_the_absolute_channel_sum():
    # channel sums [[3, -4], [1, 0]]: relevance [[3, 4], [1, 0]], the region is the 4
    attributions = np.array([[[[5.0, -2.0], [1.0, 0.0]], [[-2.0, -2.0], [0.0, 0.0]]], np.zeros((2, 2, 2))])
    regions = np.array([[[0.0, 1.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        rank, mass = localisation(attributions, regions)
    assert rank[0] == 1.0 and mass[0] == 0.5
    assert np.isnan(mass[1])


def test_resize_regions_keeps_a_quarter_covered_pixel():
    regions = np.zeros((1, 4, 4), dtype=bool)
    regions[0, 1, 1] = True  # one of the four pixels of the top-left block, not its corner
    regions[0, 2:, 2:] = True  # the whole bottom-right block
    got = resize_regions(regions, 2)
    assert got.dtype == bool
    np.testing.assert_array_equal(got[0], [[True, False], [False, True]])
    assert resize_regions(regions, 4) is regions
    wide = np.zeros((1, 2, 4), dtype=bool)  # its width already matches: kept as it is
    assert resize_regions(wide, 4) is wide


def test_map_correlation_per_image_pearson():
    a = np.array([[1.0, 2.0, 3.0], [0.01, 0.02, 0.04], [1.0, 1.0, 1.0]])
    b = np.array([[3.0, 2.0, 1.0], [0.01, 0.03, 0.02], [1.0, 2.0, 3.0]])
    got = map_correlation(a.reshape(3, 1, 3), b.reshape(3, 3, 1))
    want = [np.corrcoef(a[0], b[0])[0, 1], np.corrcoef(a[1], b[1])[0, 1], 0.0]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- VGG features
@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory):
    """torchvision's VGG16 file format: the 16 layers used, one later layer and the classifier."""
    torch.manual_seed(2)
    state = {f"features.{k}": v for k, v in make_layers(cfgs["D"])[:16].state_dict().items()}
    state["features.17.weight"] = torch.zeros(1)
    state["classifier.0.weight"] = torch.zeros(1)
    path = tmp_path_factory.mktemp("vgg") / "vgg16.pth"
    torch.save(state, path)
    return path, state


def test_vgg_features_load_the_first_16_layers_frozen(vgg_file):
    path, state = vgg_file
    features = _VGGFeatures(str(path))
    assert len(features.features) == 16
    got = features.features.state_dict()
    assert sorted(got) == sorted(k[len("features."):] for k in state
                                 if k.startswith("features.") and int(k.split(".")[1]) < 16)
    for key, value in got.items():
        torch.testing.assert_close(value, state[f"features.{key}"], rtol=0, atol=0)
    assert not any(p.requires_grad for p in features.parameters())


def test_vgg_features_normalise_and_shrink_large_images(vgg_file):
    features = _VGGFeatures(str(vgg_file[0]))
    features.features = nn.Identity()  # what reaches the conv stack
    mean = torch.tensor(D.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(D.IMAGENET_STD).view(1, 3, 1, 1)
    small = torch.rand(2, 3, 5, 5, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(features(small), (small - mean) / std)
    large = torch.rand(1, 3, 257, 257, generator=torch.Generator().manual_seed(1))
    shrunk = nn.functional.interpolate(large, size=(256, 256), mode="area")
    torch.testing.assert_close(features(large), (shrunk - mean) / std)
    wide = torch.rand(1, 3, 200, 300, generator=torch.Generator().manual_seed(2))  # wider than 256 px
    shrunk = nn.functional.interpolate(wide, size=(256, 256), mode="area")
    torch.testing.assert_close(features(wide), (shrunk - mean) / std)
    # the mean and std are made on the images' device ("meta": a device that is not the CPU)
    assert features(torch.zeros(1, 3, 4, 4, device="meta")).device.type == "meta"


# --------------------------------------------------------------------------- projection
class FakeGenerator(nn.Module):
    """synthesis(ws) = tanh(mean_k ws[:, k] @ B^T) as (N, 3, R, R) images; records each call's
    ws and noise mode and the gradient that reaches its output."""

    def __init__(self, w_dim=4, res=4, num_ws=3):
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.w_dim, self.img_resolution, self.num_ws = w_dim, res, num_ws
        self.mapping = nn.Module()
        self.mapping.register_buffer("w_avg", 0.1 * torch.randn(w_dim, generator=gen))
        self.register_buffer("B", 0.5 * torch.randn(3 * res * res, w_dim, generator=gen))
        self.calls, self.grads = [], []

    def render(self, w):
        return torch.tanh(w @ self.B.T).view(-1, 3, self.img_resolution, self.img_resolution)

    def synthesis(self, ws, noise_mode="random"):
        assert ws.shape[1:] == (self.num_ws, self.w_dim), ws.shape
        self.calls.append((ws.detach().clone(), noise_mode))
        out = self.render(ws.mean(1))
        if out.requires_grad:
            out.register_hook(self.grads.append)
        return out


class RecordingAdam(torch.optim.Adam):
    """torch's Adam, recording the learning rate of every step."""

    lrs: list = []

    def step(self, closure=None):
        RecordingAdam.lrs.append(self.param_groups[0]["lr"])
        return super().step(closure)


class FakeVGG(nn.Module):
    """features(x) = 3 x[:, :2]: a stand-in for VGG16 whose loss gradient is known; records
    the weights it is made from and the device it is moved to."""

    made: list = []

    def __init__(self, weights):
        super().__init__()
        FakeVGG.made.append(weights)

    def to(self, device):
        FakeVGG.made.append(device)
        return self

    def forward(self, x):
        return 3 * x[:, :2]


@pytest.fixture
def recorded(monkeypatch):
    RecordingAdam.lrs, FakeVGG.made = [], []
    monkeypatch.setattr(torch.optim, "Adam", RecordingAdam)
    monkeypatch.setattr(E, "_VGGFeatures", FakeVGG)
    return RecordingAdam.lrs


def nvlabs_lr(step, n, lr=0.1, down=0.25, up=0.05):
    """NVlabs' projector schedule: cosine ramp-down over the last ``down``, linear ramp-up over
    the first ``up`` of the steps, floored at 1e-3 of the rate."""
    t = step / n
    ramp = 0.5 - 0.5 * math.cos(min(1.0, (1.0 - t) / down) * math.pi)
    ramp = ramp * min(1.0, t / up) if up else ramp
    return lr * max(ramp, 1e-3)


def targets_for(g, n=2):
    w = g.mapping.w_avg + torch.randn(n, g.w_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        return to_unit(g.render(w))


def test_projection_schedule_start_and_pixel_loss_gradient(recorded):
    g = FakeGenerator()
    targets = targets_for(g)
    w = project(g, targets, num_steps=20)
    assert w.shape == (2, 4) and not w.requires_grad
    assert recorded == pytest.approx([nvlabs_lr(s, 20) for s in range(20)], rel=1e-12)
    # by hand: step 0 is floored, step 1 at full rate, step 19 at (1 - cos(0.2 pi)) / 2
    assert recorded[0] == pytest.approx(1e-4) and recorded[1] == pytest.approx(0.1)
    assert recorded[19] == pytest.approx(0.1 * (0.5 - 0.5 * math.cos(0.2 * math.pi)))
    assert len(g.calls) == 20 and {mode for _, mode in g.calls} == {"const"}
    start = g.calls[0][0]
    torch.testing.assert_close(start, g.mapping.w_avg.expand(2, 3, 4), rtol=0, atol=0)  # from w_avg, every image
    # the loss is each image's pixel MSE, summed: its gradient at the generator's [-1, 1]
    # output is 0.5 * 2 (x01 - target) / (3 R^2)
    for (ws, _), grad in zip(g.calls, g.grads):
        torch.testing.assert_close(grad, (to_unit(g.render(ws[:, 0])) - targets) / (3 * 16))


def test_projection_reports_its_progress_over_every_step(recorded, monkeypatch):
    bars = []

    def progress(iterable, *, desc):
        bars.append((list(iterable), desc))
        return bars[-1][0]

    monkeypatch.setattr(E, "progress", progress)
    g = FakeGenerator()
    project(g, targets_for(g), num_steps=3)
    assert bars == [([0, 1, 2], "projection")]


def test_projection_schedule_without_ramp_up_and_other_lengths(recorded):
    g = FakeGenerator()
    project(g, targets_for(g), num_steps=10, initial_learning_rate=0.3, lr_rampdown_length=0.5,
            lr_rampup_length=0.0)
    assert recorded[0] == 0.3  # no ramp-up: full rate at once
    assert recorded == pytest.approx([nvlabs_lr(s, 10, 0.3, 0.5, 0.0) for s in range(10)], rel=1e-12)
    recorded.clear()
    project(g, targets_for(g), num_steps=40, initial_learning_rate=0.2, lr_rampdown_length=0.1,
            lr_rampup_length=0.2)
    assert recorded == pytest.approx([nvlabs_lr(s, 40, 0.2, 0.1, 0.2) for s in range(40)], rel=1e-12)


def test_projection_vgg_loss_gradient(recorded):
    g = FakeGenerator()
    targets = targets_for(g)
    project(g, targets, num_steps=3, loss="vgg16", vgg16_weights="vgg.pth")
    assert FakeVGG.made == ["vgg.pth", targets.device]  # made from the file, moved to the targets' device
    # mean over 2 R^2 feature cells of (3 x - 3 t)^2 per image: 9 (x - t) / R^2 on channels 0, 1
    # (4.5 at the [-1, 1] output), nothing on channel 2
    for (ws, _), grad in zip(g.calls, g.grads):
        want = 4.5 * (to_unit(g.render(ws[:, 0])) - targets) / 16
        want[:, 2] = 0
        torch.testing.assert_close(grad, want)


def test_projection_vgg_loss_needs_its_weights(recorded):
    g = FakeGenerator()
    with pytest.raises(ValueError, match=r"^projection_loss 'vgg16' needs torchvision's VGG16 weights file "
                                         r"\(vgg16_weights\)$"):
        project(g, targets_for(g), num_steps=1, loss="vgg16")
    project(g, targets_for(g), num_steps=1, loss="pixel")  # the pixel loss needs none
    assert FakeVGG.made == []


# --------------------------------------------------------------------------- latent moves
class Channel(nn.Module):
    """logit = 5 mean of one channel of the normalised input + its width (so the input size shows)."""

    def __init__(self, channel):
        super().__init__()
        self.channel = channel

    def forward(self, x):
        return 5 * x[:, self.channel].mean((1, 2))[:, None] + x.shape[-1]


def expected_moves(g, inputs, beta, *, size, steps_proj, lr, ampl, steps, seed, loss="pixel", weights=None):
    targets = torch.from_numpy(inputs).permute(0, 3, 1, 2).float() / 255.0
    targets = nn.functional.interpolate(targets, size=(g.img_resolution,) * 2, mode="bilinear", align_corners=False)
    w = project(g, targets, num_steps=steps_proj, initial_learning_rate=lr, loss=loss, vgg16_weights=weights)

    def score(frames, model):
        return model(D.classifier_input(frames.flatten(0, 1), size)).view(len(w), steps).numpy()

    _, frames = move_and_render(g, w, beta, ampl=ampl, steps=steps)
    betas = torch.randn(w.shape, generator=torch.Generator().manual_seed(seed))
    _, random = move_and_render(g, w, betas, ampl=ampl, steps=steps)
    return w, frames, [score(f, Channel(c)) for f in (frames, random) for c in (2, 0)]


def test_latent_moves_score_every_frame_with_the_target_and_own_classifier(monkeypatch):
    monkeypatch.delenv("XAIREPRO_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # "cpu" must still mean the CPU
    g = FakeGenerator()
    beta = torch.tensor([1.0, -0.5, 0.25, 2.0])
    moves = LatentMoves({"Red": Channel(0), "Blue": Channel(2)}, g, {"Red": beta}, classifier_size=6,
                        reconstruction_steps=4, initial_learning_rate=0.05, projection_loss="pixel", device="cpu")
    assert moves.device == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    inputs = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)  # resized to 4 px
    got = moves.attribute(inputs, "Blue", ampl=0.5, steps=3, random_seed=7)
    w, frames, (eval_, own, random_eval, random_own) = expected_moves(
        g, inputs, beta, size=6, steps_proj=4, lr=0.05, ampl=0.5, steps=3, seed=7)
    torch.testing.assert_close(got.w, w, rtol=0, atol=0)
    torch.testing.assert_close(got.reconstructions, to_unit(g.render(w)))
    torch.testing.assert_close(got.grid, torch.tensor([-0.5, 0.0, 0.5]))
    assert list(got.frames) == ["Red"] and got.frames["Red"].shape == (2, 3, 3, 4, 4)
    torch.testing.assert_close(got.frames["Red"], frames, rtol=0, atol=0)
    np.testing.assert_allclose(got.eval_logits["Red"], eval_, rtol=1e-6)
    np.testing.assert_allclose(got.own_logits["Red"], own, rtol=1e-6)
    assert not np.allclose(got.own_logits["Red"], got.eval_logits["Red"])
    np.testing.assert_allclose(got.random_eval_logits["Red"], random_eval, rtol=1e-6)
    np.testing.assert_allclose(got.random_own_logits["Red"], random_own, rtol=1e-6)
    assert {mode for _, mode in g.calls} == {"const"}


def test_latent_moves_without_seed_and_with_the_vgg_loss(recorded):
    g = FakeGenerator()
    beta = torch.tensor([0.5, 1.0, -1.0, 0.0])
    moves = LatentMoves({"Blue": Channel(2)}, g, {"Blue": beta}, classifier_size=4, reconstruction_steps=3,
                        initial_learning_rate=0.2, projection_loss="vgg16", vgg16_weights="vgg.pth")
    inputs = np.random.default_rng(1).integers(0, 256, (2, 4, 4, 3), dtype=np.uint8)
    got = moves.attribute(inputs, "Blue", ampl=1.0, steps=2)
    assert got.random_eval_logits is None and got.random_own_logits is None
    assert FakeVGG.made[0] == "vgg.pth"
    w, _, (eval_, *_) = expected_moves(g, inputs, beta, size=4, steps_proj=3, lr=0.2, ampl=1.0, steps=2, seed=0,
                                       loss="vgg16", weights="vgg.pth")
    torch.testing.assert_close(got.w, w, rtol=0, atol=0)
    np.testing.assert_allclose(got.eval_logits["Blue"], eval_, rtol=1e-6)
    np.testing.assert_array_equal(got.own_logits["Blue"], got.eval_logits["Blue"])


def test_latent_moves_resize_a_non_square_input_to_the_generators_square(recorded):
    # (N, H, W, 3) with one side at the resolution and the other not: bilinear to R x R
    g = FakeGenerator()
    beta = torch.tensor([0.5, 1.0, -1.0, 0.0])
    moves = LatentMoves({"Blue": Channel(2)}, g, {"Blue": beta}, classifier_size=4, reconstruction_steps=2,
                        initial_learning_rate=0.1)
    for shape in ((2, 4, 8, 3), (2, 8, 4, 3)):  # the width at the resolution, then the height
        inputs = np.random.default_rng(2).integers(0, 256, shape, dtype=np.uint8)
        got = moves.attribute(inputs, "Blue", ampl=1.0, steps=2)
        w, *_ = expected_moves(g, inputs, beta, size=4, steps_proj=2, lr=0.1, ampl=1.0, steps=2, seed=0)
        torch.testing.assert_close(got.w, w, rtol=0, atol=0)


def test_latent_moves_put_the_generator_and_classifiers_on_the_device(monkeypatch):
    monkeypatch.setattr(E, "pick_device", lambda device: "meta")  # a device that is not the CPU
    g = FakeGenerator()
    moves = LatentMoves({"Red": nn.Linear(1, 1)}, g, {"Red": torch.ones(4)}, classifier_size=4,
                        reconstruction_steps=1, initial_learning_rate=0.1)
    assert moves.device == "meta"
    assert moves.generator.B.device.type == "meta" and moves.generator.mapping.w_avg.device.type == "meta"
    assert moves.classifiers["Red"].weight.device.type == "meta"


def test_latent_moves_project_the_inputs_on_the_device(monkeypatch):
    monkeypatch.setattr(E, "pick_device", lambda device: "meta")
    seen = []

    class Projected(Exception):
        pass

    def fake_project(generator, targets, **kwargs):
        seen.append((targets.device.type, tuple(targets.shape), kwargs))
        raise Projected

    monkeypatch.setattr(E, "project", fake_project)
    moves = LatentMoves({}, FakeGenerator(), {}, classifier_size=4, reconstruction_steps=5,
                        initial_learning_rate=0.3, projection_loss="vgg16", vgg16_weights="v.pth")
    with pytest.raises(Projected):
        moves.attribute(np.zeros((2, 8, 8, 3), np.uint8), "Red", ampl=1.0, steps=2)
    assert seen == [("meta", (2, 3, 4, 4), {"num_steps": 5, "initial_learning_rate": 0.3, "loss": "vgg16",
                                            "vgg16_weights": "v.pth"})]
