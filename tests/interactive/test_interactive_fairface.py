"""FairFace's res34_fair_align_multi_7 (static_exp.py --model_name fairface): the network, its
weights-only loader, the original's gender/age heads, its inputs and its heatmaps."""

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from xairepro.common.errors import InputError, XaiReproError
from xairepro.common.io import load_arrays
from xairepro.interactive.data import fairface_inputs
from xairepro.interactive.explain import explain
from xairepro.interactive.figures import plot_heatmaps
from xairepro.interactive.models import (FAIRFACE_FILE, FAIRFACE_SIZE, fairface_transform, load_fairface,
                                         relu_modules_are_unique, resnet34_fairface)
from xairepro.interactive.steps import compute_fairface_heatmaps

YEARS = torch.tensor([1.0, 6.0, 15.0, 25.0, 35.0, 45.0, 55.0, 65.0, 75.0])


def test_network_has_fairfaces_parameter_names_and_shapes(original):
    ours = resnet34_fairface()
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in original.state_dict().items()}
    assert relu_modules_are_unique(ours)
    assert not any(m.inplace for m in ours.modules() if isinstance(m, torch.nn.ReLU))


@pytest.mark.parametrize("zipfile", [True, False], ids=["zip", "legacy"])
def test_gender_head_is_the_male_logit(original, tmp_path, zipfile):
    path = tmp_path / FAIRFACE_FILE
    torch.save(original.state_dict(), path, _use_new_zipfile_serialization=zipfile)  # the 2019 file is legacy
    model = load_fairface(path, "gender")
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), original(x)[:, 7:8])


def test_age_head_is_the_expected_age_in_years(original, weights):
    model = load_fairface(weights, "age")
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        out = model(x)
        expected = torch.softmax(original(x)[:, 9:18], dim=-1) @ YEARS
    torch.testing.assert_close(out, expected[:, None])
    assert ((out >= 1) & (out <= 75)).all()


def test_missing_weights_stop_with_the_path_and_where_to_get_them(tmp_path):
    path = tmp_path / "nowhere" / FAIRFACE_FILE
    with pytest.raises(XaiReproError) as info:
        load_fairface(path, "gender")
    assert str(path) in str(info.value) and "github.com/dchen236/FairFace" in str(info.value)


def test_other_weights_and_attributes_are_refused(tmp_path, weights):
    path = tmp_path / "resnet18.pt"
    torch.save(torchvision.models.resnet18().state_dict(), path)
    with pytest.raises(InputError, match="not FairFace's ResNet-34"):
        load_fairface(path, "gender")
    with pytest.raises(ValueError, match="race"):
        load_fairface(weights, "race")  # skin-color is a head now (test_interactive_skin_color.py)


def test_heatmap_methods_run_on_fairface(weights):
    model = load_fairface(weights, "age")
    x = torch.randn(2, 3, 64, 64)
    out = explain(model, x, n_steps=3, nt_samples=2, internal_batch_size=3, nt_samples_batch_size=2)
    assert set(out) == {"integrated_gradients", "saliency_smoothgrad_sq", "guided_backprop", "guided_gradcam"}
    for method, a in out.items():
        assert a.shape == (2, 3, 64, 64) and np.isfinite(a).all()
        # Guided GradCAM is zero where the layer4 CAM is negative everywhere (ReLU'd away)
        assert method == "guided_gradcam" or np.abs(a).sum() > 0


def _write_images(folder, sizes):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i, (w, h) in enumerate(sizes):
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(folder / f"face{i}.png")
    return folder


def test_image_folder_is_resized_on_the_shorter_side_without_crop(tmp_path):
    folder = _write_images(tmp_path / "faces", [(300, 400), (150, 200)])
    images, labels, names = fairface_inputs(None, "gender", size=FAIRFACE_SIZE, n_imgs=1, split_seed=0, ratio=0.75,
                                            img_dir=folder)
    assert images.shape == (2, 298, 224, 3) and images.dtype == np.uint8
    assert list(names) == ["face0.png", "face1.png"] and np.isnan(labels).all()
    # the original's transform gives the same tensor
    with Image.open(folder / "face0.png") as img:
        theirs = fairface_transform()(img.convert("RGB"))
    from xairepro.interactive.data import to_tensor
    torch.testing.assert_close(to_tensor(images[:1])[0], theirs, atol=1e-6, rtol=0)
    mixed = _write_images(tmp_path / "mixed", [(300, 400), (200, 200)])
    with pytest.raises(InputError, match="aspect"):
        fairface_inputs(None, "gender", size=FAIRFACE_SIZE, n_imgs=1, split_seed=0, ratio=0.75, img_dir=mixed)


def test_fairface_heatmaps_step_writes_a_drawable_cache(weights, tmp_path):
    folder = _write_images(tmp_path / "faces", [(224, 224), (224, 224)])
    npz, csv = tmp_path / "fairface-gender.npz", tmp_path / "fairface-gender.csv"
    table = compute_fairface_heatmaps(
        weights, "gender", npz, csv, root=None, img_dir=folder, n_imgs=1, split_seed=0, ratio=0.75,
        methods=("integrated_gradients", "guided_gradcam"), n_steps=2, nt_samples=2, nt_type="smoothgrad_sq",
        internal_batch_size=None, nt_samples_batch_size=None, outlier_perc=2, seed=0, threads=1, device="cpu")
    arrays = load_arrays(npz)
    assert arrays["map_guided_gradcam"].shape == (2, 224, 224) and len(table) == 4
    plot_heatmaps(npz, tmp_path / "fig.png", classifier="fairface-gender")
    assert (tmp_path / "fig.png").stat().st_size > 0
