"""The interpret recipes' plateau schedule (PIQ, L2I), their validation metrics, NMF's epoch choice
and the paper config's recipe values."""

import pytest
import torch
from speechbrain.nnet.schedulers import ReduceLROnPlateau

from xairepro.esc50.plateau import PlateauHalving
from xairepro.esc50.train import l2i_valid_fidelity

#: minus a validation fidelity per epoch: flat, better, then a long plateau with one dip
LOSSES = [-0.2, -0.3, -0.3, -0.5, -0.4, -0.4, -0.45, -0.3, -0.2, -0.6, -0.5, -0.5, -0.5, -0.5, -0.1, -0.1, -0.1]


def optimiser(lr=1e-3):
    return torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def ours(losses, dont_halve, restart_after=None):
    opt = optimiser()
    plateau = PlateauHalving(opt, factor=0.5, patience=2, dont_halve_until_epoch=dont_halve)
    rates = []
    for epoch, loss in enumerate(losses, start=1):
        plateau.observe(epoch, loss)
        plateau.step()
        rates.append(opt.param_groups[0]["lr"])
        if epoch == restart_after:  # a resumed run: new objects from the checkpointed state
            state, lr = plateau.state_dict(), opt.param_groups[0]["lr"]
            opt = optimiser(lr)
            plateau = PlateauHalving(opt, factor=0.5, patience=2, dont_halve_until_epoch=dont_halve)
            plateau.load_state_dict(state)
    return rates


@pytest.mark.parametrize("dont_halve", [0, 3, 8, 100])
def test_plateau_halving_follows_speechbrains_reduce_lr_on_plateau(dont_halve):
    opt = optimiser()
    original = ReduceLROnPlateau(lr_min=1e-8, factor=0.5, patience=2, dont_halve_until_epoch=dont_halve)
    rates = []
    for epoch, loss in enumerate(LOSSES, start=1):
        _, new = original([opt], epoch, loss)
        opt.param_groups[0]["lr"] = new
        rates.append(new)
    assert ours(LOSSES, dont_halve) == pytest.approx(rates)
    if dont_halve < len(LOSSES):
        assert min(rates) < 1e-3  # the case halves at least once
    else:
        assert set(rates) == {1e-3}


def test_plateau_halving_resumes_where_it_stopped():
    assert ours(LOSSES, 3, restart_after=9) == pytest.approx(ours(LOSSES, 3))


def test_plateau_halving_without_an_observation_keeps_the_rate():
    opt = optimiser()
    plateau = PlateauHalving(opt, factor=0.5, patience=0, dont_halve_until_epoch=0)
    plateau.step()
    assert opt.param_groups[0]["lr"] == 1e-3


def test_plateau_needs_only_the_epochs_that_can_change_a_rate():
    plateau = PlateauHalving(optimiser(), factor=0.5, patience=3, dont_halve_until_epoch=100)
    assert [e for e in range(1, 201) if plateau.needs(e, 200)] == list(range(100, 200))
    assert not any(plateau.needs(e, 100) for e in range(1, 101))  # the FocalNet/ViT recipes: never


class FixedTheta(torch.nn.Module):
    """An L2I stand-in whose Theta returns given class scores."""

    def __init__(self, theta):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.fixed = theta

    def activations(self, reps):
        return reps

    def theta(self, H):
        return self.fixed[H.long().squeeze(1)]


def test_l2i_validation_fidelity_counts_the_prediction_in_thetas_top_k():
    theta = torch.tensor([[0.5, 0.3, 0.1, 0.05, 0.05],
                          [0.1, 0.2, 0.3, 0.4, 0.0],
                          [0.9, 0.05, 0.0, 0.0, 0.1]])
    reps = torch.arange(3.0).unsqueeze(1)  # clip i gets row i
    pred = torch.tensor([2, 0, 1])  # Theta's rank 3 (hit), rank 4 (miss), rank 3 (hit)
    scores = torch.nn.functional.one_hot(pred, 5).float()
    model = FixedTheta(theta)
    assert l2i_valid_fidelity(model, reps, scores, k=3) == pytest.approx(2 / 3)
    assert l2i_valid_fidelity(model, reps, scores, k=1) == 0.0
    assert l2i_valid_fidelity(model, reps, scores, k=5) == 1.0


def test_paper_config_holds_each_backbones_recipe_values():
    """piq.yaml / piq_focalnet.yaml / piq_vit.yaml:45-48, l2i_conv2d.yaml / l2i_cnn14.yaml:42-44,
    nmf.yaml:43-45 and the lr_annealing blocks at afd34230c."""
    from pathlib import Path

    import yaml

    cfg = yaml.safe_load((Path(__file__).parents[2] / "config" / "esc50.yaml").read_text())["esc50"]
    piq, l2i, nmf = cfg["piq"]["paper"], cfg["l2i"]["paper"], cfg["nmf"]["paper"]
    assert (piq["number_of_epochs"], piq["batch_size"], piq["lr"]) == (200, 16, 0.0002)
    for arch in ("focalnet", "vit"):
        assert cfg["piq"][arch] == {"number_of_epochs": 100, "batch_size": 6}
    assert (l2i["batch_size"], l2i["lr"]) == (16, 0.0002)
    assert cfg["l2i"]["cnn14"] == {"batch_size": 2, "lr": 0.0001}
    assert (nmf["number_of_epochs"], nmf["batch_size"], nmf["lr"]) == (100, 2, 0.0002)
    assert cfg["piq"]["lr_annealing"] == {"factor": 0.5, "patience": 3, "dont_halve_until_epoch": 100}
    assert cfg["l2i"]["lr_annealing"] == {"factor": 0.5, "patience": 3, "dont_halve_until_epoch": 50}
    assert cfg["l2i"]["k_fidelity"] == 3


def test_nmf_keeps_the_epoch_of_least_validation_loss(tmp_path):
    """The recipe saves W after ``evaluate(min_key="loss")``: the saved dictionary is the
    least-validation-MSE epoch's, whichever epoch that is (here a rate high enough to diverge
    makes it the first)."""
    import torch.nn.functional as F
    from speechbrain.lobes.models.L2I import NMFDecoderAudio, NMFEncoder

    from xairepro.common.io import load_torch, read_json
    from xairepro.esc50.data import load_features, write_demo_dataset
    from xairepro.esc50.train import NMFBrain, train_nmf

    write_demo_dataset(tmp_path / "data", n_classes=2, clips_per_fold=1)
    folds = {"train": [1, 2], "valid": [4], "test": [5]}
    cfg = {"seed": 0, "K": 3, "number_of_epochs": 4, "batch_size": 2, "lr": 2.0}  # diverges after epoch 1
    train_nmf(tmp_path / "data", tmp_path / "nmf.pt", tmp_path / "nmf.json", tmp_path / "ck.pt", seed=0, threads=1,
              folds=folds, sample_rate=16000, cfg=cfg)
    history = read_json(tmp_path / "nmf.json")["history"]
    best = min(h["valid_loss"] for h in history)
    assert best == history[0]["valid_loss"] < history[-1]["valid_loss"]
    Xva = load_features(tmp_path / "data", folds["valid"], 16000)[0].transpose(1, 2)
    modules = {"encoder": NMFEncoder(Xva.shape[1], 3), "decoder": NMFDecoderAudio(3, Xva.shape[1], device="cpu")}
    brain = NMFBrain(modules, cfg, cfg["lr"])
    brain.modules.load_state_dict(load_torch(tmp_path / "nmf.pt")["state_dict"])
    brain.modules.eval()
    with torch.no_grad():
        loss = float(F.mse_loss(brain.compute_forward((Xva,), None), Xva))
    assert loss == pytest.approx(best, rel=1e-4)


@pytest.mark.parametrize("method", ["piq", "l2i"])
def test_interpreter_training_validates_only_where_the_schedule_can_act(tmp_path, method):
    """With dont_halve_until_epoch 2 of 4 epochs, epochs 2 and 3 carry a validation fidelity
    (the anchor and the one epoch that can halve the rate); 1 and 4 do not."""
    from xairepro.common.io import read_json
    from xairepro.esc50.data import write_demo_dataset
    from xairepro.esc50.train import train_classifier, train_l2i, train_nmf, train_piq

    root = tmp_path / "data"
    write_demo_dataset(root, n_classes=2, clips_per_fold=1)
    folds = {"train": [1, 2], "valid": [4], "test": [5]}
    clf = {"sample_rate": 16000, "emb_dim": 4, "lin_neurons": 8, "n_mels": 48, "depths": [1, 1], "heads": 2,
           "number_of_epochs": 1, "batch_size": 2, "lr": 0.01, "weight_decay": 0.0, "margin": 0.2, "scale": 30,
           "lr_annealing": "constant", "use_pretrained": False}
    train_classifier(root, tmp_path / "clf.pt", tmp_path / "clf.json", tmp_path / "clf_ck.pt", arch="conv2d", seed=0,
                     threads=1, folds=folds, cfg=clf)
    plateau = {"factor": 0.5, "patience": 0, "dont_halve_until_epoch": 2}
    common = {"seed": 0, "K": 4, "number_of_epochs": 4, "batch_size": 2, "lr": 0.01, "lr_annealing": plateau}
    out = [tmp_path / f"{method}.pt", tmp_path / f"{method}.json", tmp_path / f"{method}_ck.pt"]
    if method == "piq":
        cfg = {**common, "shared_keys": 0, "mask_th": 0.35, "rec_loss_coef": 1.0}
        train_piq(root, tmp_path / "clf.pt", *out, seed=0, threads=1, folds=folds, cfg=cfg)
    else:
        nmf = [tmp_path / "nmf.pt", tmp_path / "nmf.json", tmp_path / "nmf_ck.pt"]
        train_nmf(root, *nmf, seed=0, threads=1, folds=folds, sample_rate=16000,
                  cfg={"seed": 0, "K": 4, "number_of_epochs": 1, "batch_size": 2, "lr": 0.01})
        cfg = {**common, "alpha": 10.0, "beta": 0.8, "relevance_th": 0.2, "k_fidelity": 1}
        train_l2i(root, tmp_path / "clf.pt", nmf[0], *out, seed=0, threads=1, folds=folds, cfg=cfg)
    history = read_json(out[1])["history"]
    assert ["valid_fidelity" in h for h in history] == [False, True, True, False]
    assert all(0.0 <= h["valid_fidelity"] <= 1.0 for h in history[1:3])
