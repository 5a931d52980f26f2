"""Phase 3's projection at paper settings (``projection_loss: vgg16``): Adam on w from w_avg
under VGG16-feature MSE (the stand-in for NVlabs' LPIPS projector), on a tiny generator and
torchvision's VGG16 conv stack with seeded random weights in torchvision's file format."""

import numpy as np
import pytest
import torch
from torchvision.models.vgg import cfgs, make_layers

from xairepro.interactive.explain import LatentMoves, _VGGFeatures, project
from xairepro.interactive.models import DemoGenerator, to_unit


@pytest.fixture(scope="module")
def vgg16_file(tmp_path_factory):
    """A torchvision VGG16 weights file (``features.<i>.weight`` ...), seeded, not ImageNet's."""
    torch.manual_seed(0)
    features = make_layers(cfgs["D"])
    path = tmp_path_factory.mktemp("pretrained") / "vgg16.pth"
    torch.save({f"features.{k}": v for k, v in features.state_dict().items()}, path)
    return path


@pytest.fixture(scope="module")
def generator():
    torch.manual_seed(1)
    g = DemoGenerator(z_dim=8, img_resolution=32, channels=8).eval()
    for p in g.parameters():
        p.requires_grad_(False)
    return g


class MeanRed(torch.nn.Module):
    def forward(self, x):
        return x[:, 0].mean((1, 2))[:, None]


def render(g, w):
    with torch.no_grad():
        return to_unit(g.synthesis(w[:, None].repeat(1, g.num_ws, 1)))


def vgg_distance(features, g, w, targets):
    with torch.no_grad():
        return (features(render(g, w)) - features(targets)).pow(2).flatten(1).mean(1)


def test_vgg16_projection_lowers_the_feature_distance_of_every_image(generator, vgg16_file):
    w_true = generator.mapping.w_avg + torch.randn(3, 8, generator=torch.Generator().manual_seed(2))
    targets = render(generator, w_true)  # (3, 3, 32, 32) in [0, 1]
    w = project(generator, targets, num_steps=60, initial_learning_rate=0.1, loss="vgg16", vgg16_weights=vgg16_file)
    assert w.shape == (3, 8) and torch.isfinite(w).all() and not w.requires_grad
    features = _VGGFeatures(vgg16_file)
    start = vgg_distance(features, generator, generator.mapping.w_avg[None].repeat(3, 1), targets)
    end = vgg_distance(features, generator, w, targets)
    assert (end < 0.5 * start).all(), (start, end)
    # the pixels follow (the features are not the only thing that moved)
    assert ((render(generator, w) - targets).pow(2).mean() < (render(generator, 0 * w + generator.mapping.w_avg)
                                                              - targets).pow(2).mean())


def test_vgg16_features_read_torchvisions_file_and_skip_later_layers(vgg16_file, tmp_path):
    features = _VGGFeatures(vgg16_file)
    assert len(features.features) == _VGGFeatures.LAYERS and not any(p.requires_grad for p in features.parameters())
    state = torch.load(vgg16_file, weights_only=True)
    torch.testing.assert_close(features.features[0].weight, state["features.0.weight"])
    assert features(torch.rand(2, 3, 32, 32)).shape == (2, 256, 8, 8)  # conv3_3 after two poolings
    with pytest.raises(ValueError, match="vgg16_weights"):
        project(DemoGenerator(z_dim=8, img_resolution=32, channels=8), torch.rand(1, 3, 32, 32), num_steps=1,
                loss="vgg16")


def test_latent_moves_project_with_the_vgg16_loss(generator, vgg16_file):
    w_true = generator.mapping.w_avg + torch.randn(2, 8, generator=torch.Generator().manual_seed(3))
    images = (render(generator, w_true) * 255).round().byte().permute(0, 2, 3, 1).numpy()
    moves = LatentMoves({"Red": MeanRed()}, generator, {"Red": torch.ones(8)}, classifier_size=32, reconstruction_steps=5,
                        initial_learning_rate=0.1, projection_loss="vgg16", vgg16_weights=vgg16_file,
                        device="cpu").attribute(images, target="Red", ampl=0.2, steps=3)
    assert moves.w.shape == (2, 8) and moves.reconstructions.shape == (2, 3, 32, 32)
    assert moves.frames["Red"].shape == (2, 3, 3, 32, 32) and np.isfinite(moves.eval_logits["Red"]).all()
