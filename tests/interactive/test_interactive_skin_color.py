"""The ff-skin-color direction (generative_exp.py:81-82, 252-259, 323-327): FairFace's
skin-colour head, output 1 minus output 0, labels the generated faces at 224 px, its latent
regression is fitted as the CelebA attributes', and it scores the moves of phase 3."""

import numpy as np
import torch

from xairepro.common.io import load_arrays
from xairepro.interactive.data import classifier_input
from xairepro.interactive.explain import LatentMoves
from xairepro.interactive.models import (FAIRFACE_DIRECTIONS, FAIRFACE_SIZE, MappingNetwork,
                                         classifier_size_of, load_classifiers, load_fairface, load_latent_direction,
                                         to_unit)
from xairepro.interactive.steps import create_latent_dataset
from xairepro.interactive.train import train_latent_model

SKIN = "ff-skin-color"


class TinyGenerator(torch.nn.Module):
    """synthesis(ws) = tanh(B w[:, 0]) as a 16 px image, StyleGAN2's interface."""

    def __init__(self, w_dim=4, res=16, seed=0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.z_dim = self.w_dim = w_dim
        self.img_resolution, self.num_ws = res, 2
        self.mapping = MappingNetwork(w_dim, w_dim, self.num_ws)
        self.B = torch.nn.Parameter(torch.randn(3 * res * res, w_dim, generator=gen), requires_grad=False)

    def synthesis(self, ws, noise_mode="const"):
        return torch.tanh(ws[:, 0] @ self.B.T).view(-1, 3, self.img_resolution, self.img_resolution)


class SizeRecorder(torch.nn.Module):
    """A scalar classifier (mean red) that records the input sizes it is given."""

    def __init__(self):
        super().__init__()
        self.sizes = set()

    def forward(self, x):
        self.sizes.add(x.shape[-1])
        return x[:, 0].mean((1, 2))[:, None]


def test_skin_color_head_is_output_1_minus_output_0(original, weights):
    assert FAIRFACE_DIRECTIONS == {SKIN: "skin-color"}
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        outputs = original(x)
        expected = outputs[:, 1:2] - outputs[:, 0:1]  # race "Black" minus race "White"
        torch.testing.assert_close(load_fairface(weights, "skin-color")(x), expected)
        # the generative part loads it by the attribute's name, frozen
        model = load_classifiers({SKIN: weights})[SKIN]
        torch.testing.assert_close(model(x), expected)
    assert not any(p.requires_grad for p in model.parameters())
    # none of the other 16 outputs moves the score
    head = model.fc[1]
    assert torch.equal(head(torch.eye(18)).flatten(), torch.tensor([-1.0, 1.0] + [0.0] * 16))


def test_phase1_labels_skin_color_with_fairface_at_224_px_and_fits_its_direction(weights, tmp_path):
    g, red = TinyGenerator(), SizeRecorder()
    models = {"Red": red, **load_classifiers({SKIN: weights})}
    create_latent_dataset(g, models, tmp_path / "d.npz", n_train=24, n_valid=8, psi=1.0, gen_bs=8,
                          classifier_size=16, seed=0, device="cpu")
    assert red.sizes == {16} and classifier_size_of(SKIN, 16) == FAIRFACE_SIZE == 224
    arrays = load_arrays(tmp_path / "d.npz")
    assert list(arrays["attrs"]) == ["Red", SKIN]
    # the stored logit is FairFace's skin score of the code's image, resized to 224 px
    w = torch.from_numpy(arrays["w_valid"])
    with torch.no_grad():
        images = to_unit(g.synthesis(w[:, None].repeat(1, g.num_ws, 1)))
        expected = models[SKIN](classifier_input(images, 224)).flatten().numpy()
    np.testing.assert_allclose(arrays[f"logit_{SKIN}_valid"], expected, rtol=1e-4, atol=1e-4)
    # phase 2 fits its direction as any attribute's
    record = train_latent_model(tmp_path / "d.npz", SKIN, tmp_path / "m.pt", tmp_path / "m.json", tmp_path / "ck.pt",
                                epochs=3, batch_size=8, lr=0.01, device="cpu")
    beta = load_latent_direction(tmp_path / "m.pt")
    assert record["attr"] == SKIN and beta.shape == (4,) and torch.isfinite(beta).all()


def test_phase3_scores_the_skin_color_moves_with_fairface(weights):
    g, red = TinyGenerator(), SizeRecorder()
    models = {"Red": red, **load_classifiers({SKIN: weights})}
    w = 0.3 * torch.randn(2, 4, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        images = (to_unit(g.synthesis(w[:, None].repeat(1, 2, 1))) * 255).round().byte().permute(0, 2, 3, 1).numpy()
    beta = torch.randn(4, generator=torch.Generator().manual_seed(3))
    moves = LatentMoves(models, g, {SKIN: beta}, classifier_size=16, reconstruction_steps=2,
                        initial_learning_rate=0.1, device="cpu").attribute(images, target="Red", ampl=0.5, steps=3)
    frames = moves.frames[SKIN].flatten(0, 1)  # (2 * 3, 3, 16, 16)
    with torch.no_grad():
        own = models[SKIN](classifier_input(frames, 224)).view(2, 3).numpy()
        evals = red(classifier_input(frames, 16)).view(2, 3).numpy()
    np.testing.assert_allclose(moves.own_logits[SKIN], own, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(moves.eval_logits[SKIN], evals, rtol=1e-5, atol=1e-6)
    assert red.sizes == {16}


def test_workflow_routes_every_fairface_direction_to_the_fairface_weights(root):
    """rules/interactive_functions.smk keeps its own copy of the names (importing the models
    would load torch whenever the workflow is parsed); the {attr} wildcard accepts them."""
    import ast
    import re

    functions = (root / "rules" / "interactive_functions.smk").read_text()
    copy = re.search(r"^IA_FAIRFACE_DIRECTIONS = (.+)$", functions, re.M).group(1)
    assert set(ast.literal_eval(copy)) == set(FAIRFACE_DIRECTIONS)
    constraint = re.search(r'^    attr=r"(.+)",$', (root / "rules" / "interactive.smk").read_text(), re.M).group(1)
    assert all(re.fullmatch(constraint, attr) for attr in FAIRFACE_DIRECTIONS)
    assert re.fullmatch(constraint, "Heavy_Makeup") and not re.fullmatch(constraint, "ff-skin-color/x")
