"""Classifiers, interpreters and metrics of the esc50 study on tiny random-init models."""

import numpy as np
import pandas as pd
import pytest
import torch

from xairepro.esc50.explain import AMTInterpreter, L2IInterpreter, PIQInterpreter, fit_to, score_masks
from xairepro.esc50.models import L2I, SoundClassifier, aam_loss, build_piq
from xairepro.esc50.train import init_codebook, l2i_objective, piq_objective
from xairepro.metrics.interpretation import faithfulness, fidelity_to_input, mask_mass_ratio

CFG = {"emb_dim": 4, "lin_neurons": 8, "n_mels": 48, "depths": [1, 1], "heads": 2}


@pytest.fixture(scope="module")
def X():
    torch.manual_seed(0)
    return torch.rand(2, 431, 513) * 3


@pytest.fixture(scope="module")
def conv2d():
    torch.manual_seed(0)
    return SoundClassifier("conv2d", 3, 16000, CFG).eval()


def test_conv2d_classifier_shapes(conv2d, X):
    assert conv2d.representations(X).shape == (2, 4, 26, 32)
    scores = conv2d(X)
    assert scores.shape == (2, 3) and (scores.abs() <= 1 + 1e-5).all()  # cosine scores
    loss = aam_loss()(scores.unsqueeze(1), torch.tensor([[0], [2]]))
    assert torch.isfinite(loss)


@pytest.mark.parametrize("n_mels", [48, 80])
def test_cnn14_representations_fit_l2i_psi(n_mels, X):
    torch.manual_seed(0)
    clf = SoundClassifier("cnn14", 3, 44100, dict(CFG, emb_dim=512, n_mels=n_mels)).eval()
    with torch.no_grad():
        reps = clf.representations(X[:1])
        assert [r.shape[1] for r in reps] == [512, 1024, 512]
        l2i = L2I("cnn14", 512, 3, 431, {"K": 5})
        assert l2i.activations(reps).shape == (1, 5, 431)
        assert clf(X[:1]).shape == (1, 3)


def test_l2i_on_a_narrow_cnn14_is_refused():
    with pytest.raises(ValueError, match="emb_dim >= 512"):
        L2I("cnn14", 64, 3, 431, {"K": 5})


def test_piq_mask_is_a_probability_map_of_the_input_shape(conv2d, X):
    torch.manual_seed(0)
    psi = build_piq("conv2d", 4, 3, {"K": 6, "shared_keys": 0})
    with torch.no_grad():
        init_codebook(psi, conv2d.representations(X), seed=0)
    masks, interp = PIQInterpreter(conv2d, psi).attribute(X)
    assert masks.shape == interp.shape == X.shape
    assert (masks >= 0).all() and (masks <= 1).all()
    assert (masks[:, 417:] == 0).all()  # the decoder gives 417 frames; the rest is padding
    assert torch.allclose(interp, masks * X)


def test_piq_objective_is_minimised_by_the_thresholded_input(X):
    target = (X[:, :417] > 0.35 * X.amax((1, 2), keepdim=True)).float()
    h = torch.zeros(2, 4, 13, 16)
    good = piq_objective(torch.where(target > 0, 20.0, -20.0), h, h, X, 0.35, 1.0)
    bad = piq_objective(torch.zeros_like(target), h, h, X, 0.35, 1.0)
    assert good < 1e-6 < bad


def test_init_codebook_gives_every_class_distinct_keys(conv2d, X):
    torch.manual_seed(0)
    psi = build_piq("conv2d", 4, 2, {"K": 8, "shared_keys": 0})
    with torch.no_grad():
        init_codebook(psi, conv2d.representations(X), seed=0)
    keys = psi.codebook.embedding.weight
    assert torch.unique(keys, dim=0).shape[0] == 8
    assert keys.abs().max() > 1.0 / 8  # no longer the package's +-1/K initialisation


@pytest.mark.gpu
def test_interpreters_and_scores_run_on_the_classifiers_gpu_like_on_the_cpu(conv2d, X):
    import copy

    torch.manual_seed(0)
    psi = build_piq("conv2d", 4, 3, {"K": 6, "shared_keys": 0}).eval()
    W = torch.rand(513, 5)
    l2i = L2I("conv2d", 4, 3, 431, {"K": 5}).eval()
    results = {}
    for device in ("cpu", "cuda:0"):
        clf = copy.deepcopy(conv2d).to(device)
        piq = PIQInterpreter(clf, copy.deepcopy(psi).to(device))
        l2i_interp = L2IInterpreter(clf, copy.deepcopy(l2i).to(device), W.to(device), relevance_th=0.2)
        masks, _ = piq.attribute(X)  # X stays on the CPU; the masks come back there
        l2i_masks, _ = l2i_interp.attribute(X)
        assert masks.device.type == "cpu" and l2i_masks.device.type == "cpu"
        results[device] = (masks, l2i_masks, score_masks(clf, X, masks)["faithfulness_mask_in"])
    for cpu, gpu in zip(results["cpu"], results["cuda:0"]):
        torch.testing.assert_close(gpu, cpu, rtol=1e-3, atol=1e-4)


def test_init_codebook_with_more_keys_than_encodings_keeps_every_encoding(conv2d, X):
    torch.manual_seed(0)
    psi = build_piq("conv2d", 4, 2, {"K": 2048, "shared_keys": 0})  # more keys than one clip's positions
    reps = conv2d.representations(X[:1])
    with torch.no_grad():
        init_codebook(psi, reps, seed=0)
        vectors = psi.down(psi.adapter(reps)).permute(0, 2, 3, 1).reshape(-1, 4)
    keys = psi.codebook.embedding.weight
    assert len(vectors) < 2048 and torch.isfinite(keys).all()
    assert torch.unique(keys, dim=0).shape[0] == torch.unique(vectors, dim=0).shape[0]


def test_l2i_keeps_only_relevant_components(conv2d, X):
    torch.manual_seed(0)
    l2i = L2I("conv2d", 4, 3, 431, {"K": 5})
    W = torch.rand(513, 5)
    interp_all = L2IInterpreter(conv2d, l2i, W, relevance_th=-2.0)
    interp_none = L2IInterpreter(conv2d, l2i, W, relevance_th=1.0)
    masks, interp = interp_all.attribute(X)
    assert masks.shape == X.shape and (masks >= 0).all() and (masks <= 1).all()
    with torch.no_grad():
        H = l2i.activations(conv2d.representations(X))
    assert torch.allclose(interp[:, :417], torch.einsum("fk,bkt->btf", W, H), atol=1e-5)
    assert interp_none.attribute(X)[1].sum() == 0  # |r| / max |r| <= 1 for every component
    loss = l2i_objective(l2i, W, H, X, conv2d(X), 10.0, 0.8)
    assert torch.isfinite(loss)


@pytest.mark.parametrize("arch", ["focalnet", "vit"])
def test_amt_keeps_the_top_decile(arch, X):
    torch.manual_seed(0)
    clf = SoundClassifier(arch, 3, 16000, dict(CFG, emb_dim=16)).eval()
    masks, interp = AMTInterpreter(clf, 0.9).attribute(X[:1])
    assert masks.shape == (1, 431, 513)
    assert 0.05 < float(masks.mean()) < 0.2
    assert set(masks.unique().tolist()) <= {0.0, 1.0}


def test_fidelity_and_faithfulness_closed_form():
    scores = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.8, 0.1]])
    masked = torch.tensor([[0.1, 0.9, 0.0], [0.2, 0.8, 0.1]])
    assert fidelity_to_input(scores, masked).tolist() == [0.0, 1.0]
    p, q = scores.softmax(1), masked.softmax(1)
    expected = torch.tensor([p[0, 0] - q[0, 0], 0.0])
    assert torch.allclose(faithfulness(scores, masked), expected)


def test_identity_mask_scores_perfectly(conv2d, X):
    metrics = score_masks(conv2d, X, torch.ones_like(X))
    assert metrics["fidelity_to_input"].tolist() == [1.0, 1.0]
    assert torch.allclose(metrics["faithfulness_mask_in"], torch.zeros(2), atol=1e-6)


def test_mask_mass_ratio_prefers_the_masked_region():
    mask = torch.zeros(10, 10)
    mask[:5] = 1
    a, b = torch.zeros(10, 10), torch.zeros(10, 10)
    a[:3], b[6:] = 1, 1
    assert mask_mass_ratio(mask, a, b) > 1e6
    assert fit_to(torch.ones(1, 3, 4), 5, 2).shape == (1, 5, 2)


def test_attribute_explains_the_prediction_unless_given_a_target(conv2d, X):
    torch.manual_seed(0)
    psi = build_piq("conv2d", 4, 3, {"K": 6, "shared_keys": 0})
    with torch.no_grad():
        init_codebook(psi, conv2d.representations(X), seed=0)
        pred = conv2d(X).argmax(1)
    interpreter = PIQInterpreter(conv2d, psi)
    masks, _ = interpreter.attribute(X)
    assert torch.equal(interpreter.attribute(X, target=pred)[0], masks)
    assert torch.allclose(interpreter.attribute(X, batch=1)[0], masks, atol=1e-6)  # nor do the batches
    other = interpreter.attribute(X, target=int((pred[0] + 1) % 3))[0]  # one class for every clip
    assert other.shape == masks.shape and not torch.equal(other[:1], masks[:1])


def test_with_classifier_swaps_only_the_explained_classifier(conv2d, X):
    """The control's interpreter: same decoder, the classifier randomised; the original is untouched."""
    from xairepro.common.controls import randomised_copy

    torch.manual_seed(0)
    psi = build_piq("conv2d", 4, 3, {"K": 6, "shared_keys": 0})
    interpreter = PIQInterpreter(conv2d, psi)
    control = interpreter.with_classifier(randomised_copy(conv2d, seed=0).eval())
    assert control.psi is interpreter.psi and interpreter.classifier is conv2d and control.classifier is not conv2d
    assert control.attribute(X)[0].shape == interpreter.attribute(X)[0].shape


def test_test_counts_score_the_classifier_and_its_randomised_copy(conv2d, X):
    from xairepro.esc50.train import test_counts

    y = conv2d(X).argmax(1)
    counts = test_counts(conv2d, X, y, seed=0)
    assert counts["test_correct"] == counts["n_test"] == 2 and counts["test_acc"] == 1.0
    assert 0 <= counts["randomised_test_correct"] <= 2


def test_overlap_partners_give_every_clip_its_own_noise_of_another_class():
    from xairepro.esc50.steps import overlap_partners

    y = np.repeat([0, 1, 2, 3], 12)  # the demo's test fold: 12 clips per class, in class order
    partner = overlap_partners(y)
    assert (y[partner] == (y + 1) % 4).all()  # the next class, cyclic
    assert sorted(partner) == list(range(48))  # every clip is the noise of exactly one mixture
    assert (partner[:12] == np.arange(12, 24)).all()  # the same rank within the next class
    # unequal classes in any order: still another class, the next one's clips in turn
    y = np.array([2, 0, 2, 0, 5, 0])
    partner = overlap_partners(y)
    assert list(partner) == [4, 0, 4, 2, 1, 0] and (y[partner] != y).all()
    with pytest.raises(ValueError, match="two classes"):
        overlap_partners(np.zeros(4, dtype=int))


def test_overlap_test_scores_the_mask_and_its_control_per_mixture(tmp_path):
    from xairepro.esc50.data import write_demo_dataset
    from xairepro.esc50.steps import overlap_test

    write_demo_dataset(tmp_path, n_classes=2, clips_per_fold=[1, 1, 1, 1, 2], seed=0)
    torch.manual_seed(0)
    classifier = SoundClassifier("conv2d", 2, 16000, CFG).eval()
    interpreter = PIQInterpreter(classifier, build_piq("conv2d", 4, 2, {"K": 4, "shared_keys": 0}))
    rows, arrays = overlap_test(interpreter, tmp_path, [5], 16000, control_seed=0)
    assert len(rows) == 4 and (rows.target != rows.noise.str[-5].astype(int)).all()  # partner of another class
    density = ["mask_in_source_region", "mask_in_noise_region", "control_mask_in_source_region",
               "control_mask_in_noise_region"]
    assert rows[density].notna().all().all() and rows[density].stack().between(0, 1).all()
    assert len(arrays["masks"]) == len(arrays["names"]) == 2  # the figure: one mixture per source class
    # the figure's planted boxes: the source's and its partner's rows of meta/planted.csv
    planted = pd.read_csv(tmp_path / "meta" / "planted.csv").set_index("filename")
    pairs = rows.set_index("source")
    assert list(arrays["noise_names"]) == [pairs.loc[n, "noise"] for n in arrays["names"]]
    for key, names in (("source_boxes", arrays["names"]), ("noise_boxes", arrays["noise_names"])):
        assert np.array_equal(arrays[key], planted.loc[list(names), ["t0", "t1", "f0", "f1"]].to_numpy(float))
    assert int(arrays["sample_rate"]) == 16000
    # the figure's classes: each shown mixture's row of the table (source class, noise class, prediction)
    shown = pairs.loc[list(arrays["names"])]
    assert list(arrays["targets"]) == list(shown.target)
    assert list(arrays["predictions"]) == list(shown.prediction_mixture)
    assert list(arrays["noise_targets"]) == [int(n[-5]) for n in arrays["noise_names"]]
