"""Generative explanations: latent dataset, latent logistic regression, projection, moves."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from xairepro.common.io import load_arrays, read_csv, read_json
from xairepro.interactive.explain import LatentMoves, move_and_render, project
from xairepro.interactive.figures import plot_canvases
from xairepro.interactive.models import MappingNetwork, load_latent_direction
from xairepro.interactive.steps import create_latent_dataset, explain_images
from xairepro.interactive.tables import face_moves, monotonicity
from xairepro.interactive.train import train_latent_model


class LinearGenerator(nn.Module):
    """synthesis(ws) = tanh(B w) reshaped to an image: a generator with a known inverse."""

    def __init__(self, w_dim=6, res=8, seed=0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.z_dim = self.w_dim = w_dim
        self.img_resolution = res
        self.num_ws = 2
        self.mapping = MappingNetwork(w_dim, w_dim, self.num_ws)
        self.mapping.w_avg.copy_(0.1 * torch.randn(w_dim, generator=gen))
        self.B = nn.Parameter(0.3 * torch.randn(3 * res * res, w_dim, generator=gen), requires_grad=False)
        self.synthesis = lambda ws, noise_mode="const": torch.tanh(ws[:, 0] @ self.B.T).view(-1, 3, res, res)


class BrightnessClassifier(nn.Module):
    """logit = mean red minus mean blue of the (normalised) input: monotone in the image."""

    def forward(self, x):
        return (x[:, 0] - x[:, 2]).mean((1, 2))[:, None] * 5


def red_direction(g):
    """A latent direction that raises red and lowers blue through the linear synthesis."""
    res = g.img_resolution
    target = torch.zeros(3, res, res)
    target[0], target[2] = 1.0, -1.0
    return torch.linalg.lstsq(g.B, target.flatten()[:, None]).solution.flatten()


def test_latent_dataset_labels_and_truncation(tmp_path):
    g = LinearGenerator()
    record = create_latent_dataset(g, {"Red": BrightnessClassifier()}, tmp_path / "d.npz", n_train=50, n_valid=20,
                                   psi=0.5, gen_bs=16, classifier_size=8, seed=0)
    arrays = load_arrays(tmp_path / "d.npz")
    assert arrays["w_train"].shape == (50, 6) and arrays["logit_Red_valid"].shape == (20,)
    # psi = 0.5 halves the spread around w_avg (corrected sign)
    spread = np.linalg.norm(arrays["w_train"] - g.mapping.w_avg.numpy(), axis=1).mean()
    assert spread == pytest.approx(0.5 * np.sqrt(6), rel=0.2)
    assert record["original_relative_deviation_mean"] > 0


def test_latent_logistic_regression_recovers_the_planted_direction(tmp_path):
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(2000, 6, generator=gen)
    u = torch.tensor([1.0, -2.0, 0.0, 0.5, 0.0, 0.0])
    logits = 2 * w @ u
    from xairepro.common.io import save_arrays

    save_arrays(tmp_path / "d.npz", w_train=w[:1600].numpy(), w_valid=w[1600:].numpy(),
                logit_A_train=logits[:1600].numpy(), logit_A_valid=logits[1600:].numpy())
    record = train_latent_model(tmp_path / "d.npz", "A", tmp_path / "A.pt", tmp_path / "A.json", tmp_path / "ck.pt",
                                epochs=20, batch_size=100, lr=0.01)
    beta = load_latent_direction(tmp_path / "A.pt")
    assert torch.nn.functional.cosine_similarity(beta, u, dim=0) > 0.95
    assert record["valid_acc"] > 0.9 > record["baseline_acc"] and record["valid_bce"] < record["baseline_bce"]
    assert read_json(tmp_path / "A.json")["resumed_from_epoch"] == 0 and not (tmp_path / "ck.pt").exists()
    # the shuffled-label control learns nothing
    assert record["control_valid_acc"] < record["baseline_acc"] + 0.05
    assert record["control_valid_bce"] > record["valid_bce"] + 0.3 and record["n_valid"] == 400


def test_projection_recovers_the_latent_of_a_generated_image():
    g = LinearGenerator()
    w_true = g.mapping.w_avg + 0.5 * torch.randn(3, 6, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        target = (0.5 * g.synthesis(w_true[:, None].repeat(1, 2, 1)) + 0.5).clamp(0, 1)
    w = project(g, target, num_steps=300, initial_learning_rate=0.1)
    torch.testing.assert_close(w, w_true, atol=0.05, rtol=0)


def test_score_rises_monotonically_along_the_learned_direction():
    g = LinearGenerator()
    w = g.mapping.w_avg + 0.3 * torch.randn(4, 6, generator=torch.Generator().manual_seed(2))
    grid, frames = move_and_render(g, w, red_direction(g), ampl=0.5, steps=7)
    assert frames.shape == (4, 7, 3, 8, 8) and torch.equal(grid, torch.linspace(-0.5, 0.5, 7))
    scores = BrightnessClassifier()(frames.flatten(0, 1)).view(4, 7)
    assert (scores.diff(dim=1) > 0).all()


def test_explain_images_writes_frames_and_a_monotone_table(tmp_path):
    g = LinearGenerator()
    w_true = g.mapping.w_avg + 0.3 * torch.randn(2, 6, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        images = ((0.5 * g.synthesis(w_true[:, None].repeat(1, 2, 1)) + 0.5) * 255).round().byte()
    images = images.permute(0, 2, 3, 1).numpy()
    table = explain_images(g, "Red", {"Red": BrightnessClassifier()}, {"Red": red_direction(g), "Neg": -red_direction(g)},
                           images, np.array(["a.png", "b.png"]), tmp_path / "f.npz", tmp_path / "s.csv",
                           classifier_size=8, reconstruction_steps=100, initial_learning_rate=0.1,
                           projection_loss="pixel", ampl=0.4, steps=5)
    assert len(table) == 2 * 2 * 5 and len(read_csv(tmp_path / "s.csv")) == 20
    mono = monotonicity(table).set_index("direction")
    assert mono.loc["Red", "spearman_own"] == pytest.approx(1.0)
    assert mono.loc["Neg", "spearman_eval"] == pytest.approx(-1.0)
    assert mono.loc["Red", "strictly_increasing"] == 1.0
    assert mono.loc["Red", "rising_share"] == 1.0 and mono.loc["Red", "nonfalling_share"] == 1.0
    assert mono.loc["Neg", "rising_share"] == 0.0
    assert monotonicity(table, tol=0.0).set_index("direction").loc["Neg", "nonfalling_share"] == 0.0
    arrays = load_arrays(tmp_path / "f.npz")
    assert arrays["frames"].shape == (2, 2, 5, 8, 8, 3) and arrays["frames"].dtype == np.uint8
    pages = plot_canvases(tmp_path / "f.npz", tmp_path / "pages", hw=16, dpi=50)
    assert [p.name for p in pages] == ["move_Red.png", "move_Neg.png"] and pages[0].stat().st_size > 500


def test_latent_moves_is_a_captum_shaped_explainer_behind_explain_images(tmp_path):
    """LatentMoves(models, generator, directions, flags).attribute(inputs, target=...) gives the
    scores that explain_images writes; a direction without its own classifier is scored by the target's."""
    g = LinearGenerator()
    w_true = g.mapping.w_avg + 0.3 * torch.randn(2, 6, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        images = ((0.5 * g.synthesis(w_true[:, None].repeat(1, 2, 1)) + 0.5) * 255).round().byte()
    images = images.permute(0, 2, 3, 1).numpy()
    classifiers, directions = {"Red": BrightnessClassifier()}, {"Red": red_direction(g), "Neg": -red_direction(g)}
    flags = {"classifier_size": 8, "reconstruction_steps": 50, "initial_learning_rate": 0.1, "projection_loss": "pixel"}
    moves = LatentMoves(classifiers, g, directions, **flags).attribute(images, target="Red", ampl=0.4, steps=5)
    assert moves.w.shape == (2, 6) and moves.reconstructions.shape == (2, 3, 8, 8)
    assert moves.frames["Neg"].shape == (2, 5, 3, 8, 8) and moves.eval_logits["Neg"].shape == (2, 5)
    assert np.array_equal(moves.own_logits["Neg"], moves.eval_logits["Neg"])
    assert (np.diff(moves.eval_logits["Red"], axis=1) > 0).all() and (np.diff(moves.eval_logits["Neg"], axis=1) < 0).all()
    table = explain_images(g, "Red", classifiers, directions, images, np.array(["a.png", "b.png"]), tmp_path / "f.npz",
                           tmp_path / "s.csv", **flags, ampl=0.4, steps=5)
    for direction, logits in moves.eval_logits.items():
        written = table[table.direction == direction].eval_logit.to_numpy().reshape(2, 5)
        np.testing.assert_array_equal(written, logits.astype(np.float64))


def test_monotonicity_of_a_known_table():
    rows = [{"direction": "A", "image": "x", "step": s, "shift": s - 1, "eval_logit": v, "own_logit": v}
            for s, v in enumerate([0.0, 1.0, 0.5])]
    out = monotonicity(pd.DataFrame(rows)).iloc[0]
    assert out.spearman_own == pytest.approx(0.5) and not out.strictly_increasing
    assert out.rising_share == 1.0 and out.nonfalling_share == 1.0  # the 0.5 drop is within tol
    assert monotonicity(pd.DataFrame(rows), tol=0.4).iloc[0].nonfalling_share == 0.5


def test_plateau_noise_is_not_a_reversal_but_a_real_fall_is():
    """A saturated logit wobbling by 0.1 before the flip ranks badly under Spearman, yet it
    rises monotonically; a trajectory that climbs and falls back is caught."""
    def table(values, image):
        return [{"direction": "A", "image": image, "step": s, "shift": s - 3, "eval_logit": v, "own_logit": v}
                for s, v in enumerate(values)]
    plateau = table([-10.6, -10.5, -10.7, -10.6, -10.8, -8.3, 2.8], "plateau")
    out = monotonicity(pd.DataFrame(plateau)).iloc[0]
    assert out.spearman_own < 0.5
    assert out.rising_share == 1.0 and out.nonfalling_share == 1.0
    reversal = table([5.1, 4.9, 4.2, 3.2, 1.9, 1.0, 1.0], "reversal")
    both = monotonicity(pd.DataFrame(plateau + reversal)).iloc[0]
    assert both.n_images == 2 and both.rising_share == 0.5
    assert both.nonfalling_share == pytest.approx((6 + 2) / 12)


def test_per_face_directions_move_each_face_along_its_own():
    g = LinearGenerator()
    w = g.mapping.w_avg + 0.3 * torch.randn(3, 6, generator=torch.Generator().manual_seed(4))
    betas = torch.randn(3, 6, generator=torch.Generator().manual_seed(5))
    _, together = move_and_render(g, w, betas, ampl=0.4, steps=5)
    for i in range(3):
        _, alone = move_and_render(g, w[i:i + 1], betas[i], ampl=0.4, steps=5)
        torch.testing.assert_close(together[i:i + 1], alone)


def test_random_direction_control_rows_beside_the_learned_moves(tmp_path):
    """With random_seed every face also moves along a random direction of its own (rows with
    move = random, scored by the direction's classifier); the canvases keep the learned moves only."""
    g = LinearGenerator()
    w_true = g.mapping.w_avg + 0.3 * torch.randn(4, 6, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        images = ((0.5 * g.synthesis(w_true[:, None].repeat(1, 2, 1)) + 0.5) * 255).round().byte()
    images = images.permute(0, 2, 3, 1).numpy()
    names = np.array([f"{i}.png" for i in range(4)])
    kwargs = {"classifier_size": 8, "reconstruction_steps": 30, "initial_learning_rate": 0.1,
              "projection_loss": "pixel", "ampl": 0.4, "steps": 5}
    table = explain_images(g, "Red", {"Red": BrightnessClassifier()}, {"Red": red_direction(g)}, images, names,
                           tmp_path / "f.npz", tmp_path / "s.csv", random_seed=0, **kwargs)
    assert table.groupby("move").size().to_dict() == {"latent": 4 * 5, "random": 4 * 5}
    assert load_arrays(tmp_path / "f.npz")["frames"].shape[:3] == (1, 4, 5)
    faces = face_moves(table).set_index(["move", "image"])["own_change"]
    assert (faces["latent"] > 0).all() and not np.allclose(faces["random"], faces["latent"])
    again = explain_images(g, "Red", {"Red": BrightnessClassifier()}, {"Red": red_direction(g)}, images, names,
                           tmp_path / "f2.npz", tmp_path / "s2.csv", random_seed=0, **kwargs)
    pd.testing.assert_frame_equal(table, again)


def test_a_move_is_a_share_of_the_faces_norm_whatever_the_directions_length():
    # frame g renders w + g ||w|| beta / ||beta||: the last frame's code, recovered through the
    # generator's known inverse (back to [-1, 1], atanh, then B's pseudo-inverse), sits exactly there
    g = LinearGenerator()
    w = g.mapping.w_avg + 0.3 * torch.randn(3, 6, generator=torch.Generator().manual_seed(4))
    beta = torch.randn(6, generator=torch.Generator().manual_seed(5))
    _, frames = move_and_render(g, w, beta, ampl=0.4, steps=3)
    _, long = move_and_render(g, w, 10 * beta, ampl=0.4, steps=3)
    torch.testing.assert_close(frames, long)  # the direction's length does not set the step
    latent = torch.atanh(2 * frames[:, -1].flatten(1) - 1) @ torch.linalg.pinv(g.B).T  # (3, 6)
    expected = w + 0.4 * w.norm(dim=1, keepdim=True) * beta / beta.norm()
    torch.testing.assert_close(latent, expected, atol=1e-4, rtol=1e-4)
