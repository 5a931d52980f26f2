"""PIQ and AMT on the FocalNet and ViT classifiers, at the demo's tiny widths (the variants
the demo runs: PIQ-FocalNet, PIQ-ViT, AMT-FocalNet, AMT-ViT)."""

import pandas as pd
import pytest
import torch

from xairepro.esc50.explain import AMTInterpreter, PIQInterpreter, score_masks
from xairepro.esc50.models import SoundClassifier, build_piq
from xairepro.esc50.train import PIQBrain, frozen_outputs, init_codebook, piq_valid_fidelity, take

#: config/esc50.yaml's classify.demo.focalnet / .vit widths
DEMO = {
    "focalnet": {"emb_dim": 16, "depths": [1, 1], "lin_neurons": 32, "n_mels": 80, "heads": 12},
    "vit": {"emb_dim": 32, "depths": [1, 1], "heads": 2, "lin_neurons": 32, "n_mels": 80},
}
PIQ = {"K": 8, "shared_keys": 0, "mask_th": 0.35, "rec_loss_coef": 10.0}


@pytest.fixture(scope="module")
def X():
    torch.manual_seed(0)
    X = torch.rand(2, 431, 513) * 0.1
    X[:, 100:200, 50:150] += 3.0  # one loud box: the BCE target of every clip
    return X


@pytest.fixture(scope="module", params=["focalnet", "vit"])
def trained(request, X):
    """(arch, classifier, decoder trained two steps, reps, scores, losses)."""
    arch = request.param
    torch.manual_seed(0)
    clf = SoundClassifier(arch, 3, 16000, DEMO[arch]).eval()
    reps, scores = frozen_outputs(clf, X)
    psi = build_piq(arch, clf.rep_dim, 3, PIQ)
    init_codebook(psi, reps, seed=0)
    brain = PIQBrain({"psi": psi}, PIQ, lr=0.01)
    losses = [brain.train_epoch([(take(reps, torch.arange(len(X))), scores, X)]) for _ in range(2)]
    return arch, clf, psi, reps, scores, losses


def test_piq_decoder_of_each_transformer_trains_and_masks_the_input(trained, X):
    _, clf, psi, _, _, losses = trained
    assert all(torch.isfinite(torch.tensor(losses)))
    masks, interp = PIQInterpreter(clf, psi).attribute(X)
    assert masks.shape == interp.shape == X.shape
    assert (masks >= 0).all() and (masks <= 1).all()
    assert torch.allclose(interp, masks * X)
    scored = score_masks(clf, X, masks)
    assert set(scored["fidelity_to_input"].unique().tolist()) <= {0.0, 1.0}


def test_piq_validation_fidelity_is_the_agreement_on_the_masked_input(trained, X):
    _, clf, psi, reps, scores, _ = trained
    value = piq_valid_fidelity(psi, reps, scores, clf, X, batch=1)
    masks, _ = PIQInterpreter(clf, psi).attribute(X)
    # the recipe crops X to the decoder's 417 frames; the interpreter pads the mask with zeros
    T = 417
    with torch.no_grad():
        kept = clf(masks[:, :T] * X[:, :T]).argmax(1) == scores.argmax(1)
    assert value == pytest.approx(float(kept.float().mean()))


@pytest.mark.parametrize("arch", ["focalnet", "vit"])
def test_amt_mask_of_each_transformer_is_its_top_decile_and_class_free(arch, X):
    torch.manual_seed(0)
    clf = SoundClassifier(arch, 3, 16000, DEMO[arch]).eval()
    amt = AMTInterpreter(clf, 0.9)
    masks, interp = amt.attribute(X[:2])
    assert set(masks.unique().tolist()) <= {0.0, 1.0}
    assert 0.05 < float(masks.mean()) < 0.2
    assert torch.equal(masks, amt.attribute(X[:2], target=2)[0])  # one map for every class
    assert torch.allclose(interp, masks * X[:2])


def test_demo_claims_leave_the_transformers_to_the_tables():
    from tests.esc50.test_esc50_tables import accuracy, clips

    from xairepro.esc50.tables import claims, interpretation_table

    amt = clips("amt", "vit", 24)
    acc = pd.concat([accuracy(), accuracy(correct=30, control_correct=21, arch="focalnet")])
    demo = claims(pd.concat([clips("piq", "conv2d", 24), amt]), acc, None, "demo")
    assert not demo["claim"].str.contains("vit|focalnet").any()
    assert demo["claim"].str.contains("conv2d").any()
    assert list(interpretation_table([amt])["arch"]) == ["vit"]
    paper = claims(amt, acc, None, "paper")  # the README table's rows stay claimed at paper scale
    assert paper["claim"].str.contains("amt_vit").any() and paper["claim"].str.contains("focalnet").any()
