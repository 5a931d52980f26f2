"""captum heatmaps: planted-region recovery, guided hooks active, batching, normalisation."""

import numpy as np
import pytest
import torch
from captum.attr import GuidedBackprop, IntegratedGradients, Saliency
from scipy.stats import binomtest

from xairepro.common.io import read_json
from xairepro.interactive import data as D
from xairepro.interactive.explain import METHODS, explain, map_correlation, normalise, region_mass
from xairepro.interactive.figures import plot_heatmaps
from xairepro.interactive.models import load_classifier, resnet18_norepeat
from xairepro.interactive.steps import compute_heatmaps, randomised_attributions
from xairepro.interactive.tables import summarise_heatmaps
from xairepro.interactive.train import train_classifier


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A demo classifier of the planted Heavy_Makeup attribute (lips + eye shadow).

    Six epochs, not three: at three, validation accuracy sat at 23/25 here and 22/25 on another
    2-core machine, one image either side of a 0.9 threshold. At six it is 25/25 at face seeds
    11, 12 and 13. The tests ask for `MIN_ACC` (20/25), a margin of five images, and for the
    accuracy to beat the majority baseline by a one-sided binomial test at 1 %: what the
    heatmap tests need is a classifier that has learned the attribute, not a given image count.
    """
    root = tmp_path_factory.mktemp("faces")
    D.generate_faces(root, root / "regions.npz", n_images=100, size=64, seed=11)
    out = tmp_path_factory.mktemp("model")
    record = train_classifier(root, "celeb-Heavy_Makeup", root / D.CELEB_ANNO, out / "m.pt", out / "m.json",
                              out / "ck.pt", size=64, freeze_epochs=0, unfreeze_epochs=6, bs=10, lr=3e-4,
                              ratio=0.75, split_seed=42, imagenet_weights=False, threads=1)
    return root, out, record


MIN_ACC = 0.8


def beats_baseline(record: dict) -> bool:
    hits = round(record["valid_acc"] * record["n_valid"])
    return binomtest(hits, record["n_valid"], record["baseline_acc"], alternative="greater").pvalue < 0.01


def test_demo_classifier_learns_the_planted_attribute(trained):
    _, out, record = trained
    assert record["n_valid"] == 25 and record["valid_acc"] >= MIN_ACC and beats_baseline(record), record
    assert record["valid_bce"] < record["baseline_bce"]
    assert not (out / "ck.pt").exists() and read_json(out / "m.json")["history"][-1]["frozen"] == 0


def test_heatmap_mass_falls_on_the_planted_region(trained, tmp_path):
    root, out, _ = trained
    table = compute_heatmaps(root, out / "m.pt", "celeb-Heavy_Makeup", tmp_path / "h.npz", tmp_path / "h.csv",
                             size=64, split_seed=42, ratio=0.75, n_imgs=3, n_steps=16, nt_samples=8,
                             nt_type="smoothgrad_sq", internal_batch_size=48, nt_samples_batch_size=8,
                             outlier_perc=2, regions_path=root / "regions.npz",
                             control_methods=("integrated_gradients",), out_json=tmp_path / "h.json")
    summary = summarise_heatmaps([table])
    trained = summary[summary.model == "trained"].set_index("method")
    for method in ("integrated_gradients", "saliency_smoothgrad_sq"):
        assert trained.loc[method, "mass_to_area"] > 1.3, summary
        assert trained.loc[method, "relevance_rank"] > 2 * trained.loc[method, "region_area"], summary
    for method in ("guided_backprop", "guided_gradcam"):
        assert trained.loc[method, "corr_with_gradient"] < 0.99
    # the controls: IG of two randomised copies per image rank the region below the trained classifier's
    ig = summary[summary.method == "integrated_gradients"].set_index("model")
    assert set(ig.index) == {"trained", "randomised", "randomised_twin"} and (ig.n_images == 6).all()
    assert ig.loc["trained", "relevance_rank"] > ig.loc["randomised", "relevance_rank"] + 0.1, ig
    record = read_json(tmp_path / "h.json")
    assert record["valid_acc"] >= MIN_ACC and record["randomised_acc"] <= record["baseline_acc"] + 0.05, record
    plot_heatmaps(tmp_path / "h.npz", tmp_path / "fig.png", classifier="celeb-Heavy_Makeup")
    assert (tmp_path / "fig.png").stat().st_size > 1000


def test_each_image_gets_its_own_randomised_copies():
    torch.manual_seed(0)
    model = resnet18_norepeat().eval()
    x = torch.randn(3, 3, 32, 32)
    first = randomised_attributions(model, x, ("guided_backprop",), seed=0, copy=0)["guided_backprop"]
    assert first.shape == (3, 3, 32, 32)
    np.testing.assert_array_equal(first, randomised_attributions(model, x, ("guided_backprop",), seed=0,
                                                                 copy=0)["guided_backprop"])
    twin = randomised_attributions(model, x, ("guided_backprop",), seed=0, copy=1)["guided_backprop"]
    assert not np.allclose(first, twin)
    # image i of a batch is explained by the same copy as when alone at index i
    alone = randomised_attributions(model, x[:1], ("guided_backprop",), seed=0, copy=0)["guided_backprop"]
    np.testing.assert_allclose(alone[0], first[0], rtol=1e-5, atol=1e-7)


def test_guided_backprop_differs_from_the_gradient_because_relu_hooks_fire():
    torch.manual_seed(0)
    model = resnet18_norepeat().eval()
    x = torch.randn(2, 3, 32, 32)
    maps = explain(model, x, ("guided_backprop", "gradient"))
    assert not np.allclose(maps["guided_backprop"], maps["gradient"])
    assert (map_correlation(maps["guided_backprop"], maps["gradient"]) < 0.99).all()
    # without ReLU modules to hook, guided backprop is exactly the gradient
    linear = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 1)).eval()
    gb = GuidedBackprop(linear).attribute(x.clone().requires_grad_(True), target=0)
    grad = Saliency(linear).attribute(x.clone().requires_grad_(True), target=0, abs=False)
    torch.testing.assert_close(gb, grad)


def test_batched_heatmaps_equal_one_image_at_a_time():
    torch.manual_seed(1)
    model = resnet18_norepeat().eval()
    x = torch.randn(3, 3, 32, 32)
    batched = explain(model, x, ("integrated_gradients", "guided_backprop", "guided_gradcam"), n_steps=8,
                      internal_batch_size=24)
    for i in range(3):
        single = explain(model, x[i:i + 1], ("integrated_gradients", "guided_backprop", "guided_gradcam"), n_steps=8,
                         internal_batch_size=2)
        for method, a in single.items():
            np.testing.assert_allclose(batched[method][i:i + 1], a, rtol=1e-4, atol=1e-6)


def test_integrated_gradients_completeness_on_the_classifier():
    torch.manual_seed(2)
    model = resnet18_norepeat().eval()
    x = torch.randn(1, 3, 32, 32)
    a = IntegratedGradients(model).attribute(x, target=0, n_steps=200, method="riemann_trapezoid")
    with torch.no_grad():
        delta = (model(x) - model(torch.zeros_like(x))).item()
    assert a.sum().item() == pytest.approx(delta, rel=0.05, abs=1e-3)


def test_normalisation_is_captums():
    a = np.zeros((1, 3, 4, 4), np.float32)
    a[0, :, 0, 0] = [1.0, 1.0, 1.0]  # channel sum 3
    a[0, 0, 1, 1] = -1.5
    out = normalise(a, outlier_perc=0)
    assert out.shape == (1, 4, 4) and out.max() == pytest.approx(1.0) and out.min() == pytest.approx(-0.5)
    assert np.all(normalise(np.zeros((1, 3, 4, 4))) == 0)  # an all-zero map stays zero (the original: ones)
    from captum.attr._utils import visualization as viz

    rng = np.random.default_rng(0)
    b = rng.normal(size=(2, 3, 8, 8))
    expected = [viz._normalize_attr(x.sum(0), "all", 2) for x in b]  # captum 0.9's private helper
    np.testing.assert_allclose(normalise(b, 2), np.stack(expected), rtol=1e-5)
    assert set(METHODS) == {"integrated_gradients", "saliency_smoothgrad_sq", "guided_backprop", "guided_gradcam"}


def test_region_mass_closed_form():
    maps = np.zeros((1, 4, 4))
    maps[0, 0, :] = 1.0
    maps[0, 3, 0] = -1.0
    region = np.zeros((1, 4, 4), bool)
    region[0, 0, :2] = True
    mass, area = region_mass(maps, region)
    assert mass[0] == pytest.approx(2 / 5) and area[0] == pytest.approx(2 / 16)
    mass, _ = region_mass(np.zeros((1, 4, 4)), region)  # an all-zero map has no mass
    assert np.isnan(mass[0])


def test_loaded_classifier_is_ready_for_captum(trained):
    _, out, _ = trained
    model = load_classifier(out / "m.pt")
    assert not model.training and not any(getattr(m, "inplace", False) for m in model.modules())


def test_regions_follow_the_classifier_resolution():
    from xairepro.interactive.explain import resize_regions

    regions = np.zeros((1, 8, 8), bool)
    regions[0, :4, :4] = True
    small = resize_regions(regions, 4)
    assert small.shape == (1, 4, 4) and small[0, :2, :2].all() and small.sum() == 4
    assert resize_regions(regions, 8) is regions


def grid_share(maps: np.ndarray) -> float:
    """Share of the column profile's power (maps (N, H, W), averaged over images and rows) at
    periods of 2 and 4 pixels: the fine grid of the SmoothGrad^2 maps."""
    profile = maps.mean(axis=(0, 1))
    power = np.abs(np.fft.rfft(profile - profile.mean())) ** 2
    n = len(profile)
    return float((power[n // 2] + power[n // 4]) / power[1:].sum())


def test_smoothgrad_grid_comes_from_the_resnet_stem():
    """The grid in the demo's SmoothGrad^2 panels is ResNet-18's, not the data's or ours: an
    untrained ResNet-18 on noise draws it too, and without the stem's strides (7x7 conv,
    3x3 max-pool, stride 2 each) it is gone."""
    torch.manual_seed(0)
    model = resnet18_norepeat().eval()
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    flags = {"nt_samples": 8, "nt_samples_batch_size": 8}
    strided = explain(model, x, ("saliency_smoothgrad_sq",), **flags)["saliency_smoothgrad_sq"].sum(1)
    model.conv1.stride, model.maxpool = (1, 1), torch.nn.Identity()
    unstrided = explain(model, x, ("saliency_smoothgrad_sq",), **flags)["saliency_smoothgrad_sq"].sum(1)
    assert grid_share(strided) > 0.1 > 0.02 > grid_share(unstrided)
