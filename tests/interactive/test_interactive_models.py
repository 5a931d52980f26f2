"""The no-repeat ResNet-18, the demo generator's StyleGAN2 interface, truncation, loading."""

import pickle

import pytest
import torch
import torchvision

from xairepro.common.errors import XaiReproError
from xairepro.common.io import save_torch
from xairepro.interactive.models import (
    DemoGenerator, load_generator, relu_modules_are_unique, resnet18_norepeat, truncate, truncate_original,
)


def test_resnet_relus_are_unique_and_not_inplace():
    model = resnet18_norepeat()
    assert relu_modules_are_unique(model)
    assert not relu_modules_are_unique(torchvision.models.resnet18())  # torchvision reuses block.relu
    relus = [m for m in model.modules() if isinstance(m, torch.nn.ReLU)]
    assert len(relus) == 1 + 2 * 8 and not any(m.inplace for m in relus)
    assert model.fc.out_features == 1 and model.fc.in_features == 512


def test_resnet_keeps_torchvisions_state_dict_and_function():
    ours, theirs = resnet18_norepeat(), torchvision.models.resnet18()
    theirs.fc = torch.nn.Linear(512, 1)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), theirs.eval()(x))


def test_demo_generator_has_the_stylegan2_interface():
    g = DemoGenerator(z_dim=8, img_resolution=32, channels=8)
    assert g.z_dim == 8 and g.img_resolution == 32 and g.mapping.num_ws == g.num_ws == 4
    z = torch.randn(3, g.z_dim)
    ws = g.mapping(z, None)
    assert ws.shape == (3, g.mapping.num_ws, 8) and g.mapping.w_avg.shape == (8,)
    assert torch.equal(ws[:, 0], ws[:, -1])
    images = g.synthesis(ws, noise_mode="const")
    assert images.shape == (3, 3, 32, 32) and images.abs().max() <= 1


def test_mapping_fit_matches_the_codes_mean_and_covariance():
    g = DemoGenerator(z_dim=4, img_resolution=16, channels=4)
    gen = torch.Generator().manual_seed(0)
    mix = torch.tensor([[2.0, 0, 0, 0], [0.5, 1, 0, 0], [0, 0, 0.3, 0], [0, 0, 0.2, 1.5]])
    codes = torch.randn(20000, 4, generator=gen) @ mix.T + torch.tensor([1.0, -2, 0, 3])
    g.mapping.fit(codes)
    sample = g.mapping(torch.randn(20000, 4, generator=gen))[:, 0]
    torch.testing.assert_close(g.mapping.w_avg, codes.mean(0))
    torch.testing.assert_close(sample.mean(0), codes.mean(0), atol=0.06, rtol=0)
    torch.testing.assert_close(torch.cov(sample.T), torch.cov(codes.T), atol=0.1, rtol=0.05)


def test_truncation_uses_the_corrected_sign():
    w, w_avg = torch.randn(5, 3), torch.randn(3)
    torch.testing.assert_close(truncate(w, w_avg, 0.0), w_avg.expand(5, 3))
    torch.testing.assert_close(truncate(w, w_avg, 1.0), w)
    torch.testing.assert_close(truncate(w, w_avg, 0.5), (w + w_avg) / 2)
    # the original's line moves even psi = 1 codes by 2 w_avg
    torch.testing.assert_close(truncate_original(w, w_avg, 1.0), w + 2 * w_avg)


def test_demo_generator_round_trips_without_pickle(tmp_path):
    g = DemoGenerator(z_dim=8, img_resolution=16, channels=8)
    g.mapping.w_avg.fill_(0.5)
    save_torch(tmp_path / "g.pt", {"state_dict": g.state_dict(), "z_dim": 8, "img_resolution": 16, "channels": 8})
    loaded = load_generator(tmp_path / "g.pt")
    z = torch.randn(2, 8)
    with torch.no_grad():
        torch.testing.assert_close(loaded(z), g.eval()(z))


def test_stylegan_pickle_needs_explicit_trust(tmp_path):
    path = tmp_path / "ffhq.pkl"
    path.write_bytes(pickle.dumps({"G_ema": "not a generator"}))
    with pytest.raises(XaiReproError, match="allow_generator_pickle"):
        load_generator(path)


def test_stylegan_code_folder_is_checked(tmp_path):
    path = tmp_path / "ffhq.pkl"
    path.write_bytes(b"")
    with pytest.raises(XaiReproError, match="stylegan2-ada-pytorch"):
        load_generator(path, stylegan2_code=str(tmp_path), allow_pickle=True)


def test_pretrained_weights_come_from_the_downloaded_file(tmp_path):
    """ImageNet weights are torchvision's files fetched by a local rule (no download inside a
    training job): the ResNet-18 body loads from one, the VGG16 loss reads only features[:16],
    and a file whose sha256 does not start with torchvision's prefix is refused."""
    import hashlib

    from xairepro.common.errors import InputError
    from xairepro.interactive.explain import _VGGFeatures
    from xairepro.interactive.models import download_pretrained

    theirs = torchvision.models.resnet18()
    torch.save(theirs.state_dict(), tmp_path / "resnet18.pth")
    ours = resnet18_norepeat(imagenet_weights=tmp_path / "resnet18.pth")
    torch.testing.assert_close(ours.layer4[1].conv2.weight, theirs.layer4[1].conv2.weight)
    vgg = torchvision.models.vgg16().features
    torch.save({f"features.{k}": v for k, v in vgg.state_dict().items() if int(k.split(".")[0]) < 16},
               tmp_path / "vgg16.pth")
    torch.testing.assert_close(_VGGFeatures(str(tmp_path / "vgg16.pth")).features[14].weight, vgg[14].weight)
    digest = hashlib.sha256((tmp_path / "resnet18.pth").read_bytes()).hexdigest()
    url = (tmp_path / "resnet18.pth").as_uri()
    assert download_pretrained([url], tmp_path / "got.pth", digest[:8]).is_file()
    wrong = "0" * 8 if not digest.startswith("0" * 8) else "f" * 8
    with pytest.raises(XaiReproError):
        download_pretrained([url], tmp_path / "bad.pth", wrong, retries=1)
    assert not (tmp_path / "bad.pth").exists() and issubclass(InputError, XaiReproError)
