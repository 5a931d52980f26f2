"""The original's nine rankings and five replacements (xairepro/lossgrad/occlusion.py),
checked against closed forms on inputs small enough to rank by hand, for MNIST images
``(N, 1, 28, 28)`` and singing-voice excerpts ``(N, 1, 115, 80)`` alike."""

import numpy as np
import pytest
import torch

from xairepro.common.io import save_arrays
from xairepro.lossgrad.data import black_pixel, load_split, make_demo_digits
from xairepro.lossgrad.occlusion import (
    ATTRIBUTION_METHODS,
    REPLACEMENT_TYPES,
    feature_ranks,
    occlude,
    rank_scores,
    replacement_values,
)

# One image of four features: x and g chosen so that every ranking orders them differently.
X = torch.tensor([[-3.0, 1.0, 2.0, -0.5]]).view(1, 1, 2, 2)
G = torch.tensor([[1.0, -4.0, 0.5, 2.0]]).view(1, 1, 2, 2)
# Features in ROAR=1 order (highest score first), worked out by hand from X and G.
EXPECTED_ROAR1 = {
    "abs_grad": [1, 3, 0, 2],          # |g| = 1, 4, 0.5, 2
    "grad_orig": [3, 0, 2, 1],         # g = 1, -4, 0.5, 2
    "grad_inp": [2, 3, 0, 1],          # g*x = -3, -4, 1, -1
    "abs_grad_inp": [1, 2, 3, 0],      # |g|*x = -3, 4, 1, -1
    "grad_abs_inp": [0, 2, 3, 1],      # g*|x| = 3, -4, 1, -1
    "abs_grad_abs_inp": [1, 0, 2, 3],  # |g*x| = 3, 4, 1, 1 (tie kept in feature order)
    "inp": [2, 1, 3, 0],               # x = -3, 1, 2, -0.5
    "abs_inp": [0, 2, 1, 3],           # |x| = 3, 1, 2, 0.5
}


def order_of(method: str, roar: int) -> list[int]:
    ranks = feature_ranks(rank_scores(method, X, G), roar)[0]  # (4,): rank of each feature
    return torch.argsort(ranks).tolist()


def test_every_method_of_the_original_is_offered():
    assert set(ATTRIBUTION_METHODS) == set(EXPECTED_ROAR1) | {"random"}
    assert set(REPLACEMENT_TYPES) == {"mean", "image_min", "image_max", "dataset_min", "custom"}


@pytest.mark.parametrize("method", sorted(EXPECTED_ROAR1), ids=sorted(EXPECTED_ROAR1))
def test_ranking_occludes_in_the_hand_worked_order(method):
    assert order_of(method, 1) == EXPECTED_ROAR1[method]


@pytest.mark.parametrize("method", ["grad_orig", "inp", "abs_grad_inp"])
def test_roar0_occludes_the_lowest_scores_first(method):
    scores = rank_scores(method, X, G)[0]
    assert scores[order_of(method, 0)].tolist() == sorted(scores.tolist())


def test_input_only_rankings_ignore_the_gradient():
    for method in ("inp", "abs_inp"):
        assert torch.equal(rank_scores(method, X, G), rank_scores(method, X, -7 * G))


def test_unknown_names_stop_naming_the_choices():
    with pytest.raises(ValueError, match="abs_grad_abs_inp"):
        rank_scores("saliency", X, G)
    with pytest.raises(ValueError, match="dataset_min"):
        replacement_values(X, "zero")


@pytest.mark.parametrize("shape", [(2, 1, 28, 28), (2, 1, 115, 80)], ids=["mnist", "svd"])
@pytest.mark.parametrize(
    "replacement,expected",
    [
        ("mean", lambda x: torch.zeros(2)),
        ("image_min", lambda x: 3 * x.flatten(1).min(1).values),
        ("image_max", lambda x: x.flatten(1).max(1).values),
        ("dataset_min", lambda x: torch.full((2,), -0.1307 / 0.3081)),
        ("custom", lambda x: torch.full((2,), 0.75)),
    ],
    ids=["mean", "image_min", "image_max", "dataset_min", "custom"],
)
def test_occluded_pixels_get_the_replacement_value(shape, replacement, expected):
    """k features of the ranking take exactly the closed-form value; the others keep theirs."""
    gen = torch.Generator().manual_seed(0)
    x, g = torch.randn(shape, generator=gen), torch.randn(shape, generator=gen)
    ranks = feature_ranks(rank_scores("grad_abs_inp", x, g), 1)
    values = replacement_values(x, replacement, dataset_min=-0.1307 / 0.3081, replacement_value=0.75)
    out = occlude(x, ranks, 10, values).flatten(1)
    top = torch.argsort(g.flatten(1) * x.flatten(1).abs(), dim=1, descending=True)[:, :10]
    assert torch.allclose(out.gather(1, top), expected(x)[:, None].expand(-1, 10))
    kept = torch.ones_like(out, dtype=torch.bool).scatter_(1, top, False)
    assert torch.equal(out[kept], x.flatten(1)[kept])


def test_replacement_defaults_are_the_originals():
    """The original's constructor defaults: dataset_min 0 (its singing-voice driver passes
    none) and --replacement-value 0."""
    assert replacement_values(X, "dataset_min").item() == 0
    assert replacement_values(X, "custom").item() == 0


def test_mnist_dataset_min_is_the_normalised_black_pixel(tmp_path):
    save_arrays(tmp_path / "mnist.npz", **make_demo_digits(seed=0))
    x, _ = load_split(tmp_path / "mnist.npz", "train", 10)
    assert black_pixel(tmp_path / "mnist.npz") == pytest.approx(float(x.min()), abs=1e-6)
    # with MNIST's statistics it is the original's constant
    save_arrays(tmp_path / "stats.npz", mean=np.float32(0.1307), std=np.float32(0.3081))
    assert black_pixel(tmp_path / "stats.npz") == pytest.approx(-0.1307 / 0.3081, rel=1e-6)
