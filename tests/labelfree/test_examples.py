"""Claim 1.2 steps on a small slice of the demo digits."""

import numpy as np
import pandas as pd
import pytest
import torch

from xairepro.common.claims import failed_claims
from xairepro.common.controls import shuffled
from xairepro.common.io import load_arrays, read_json, save_arrays
from xairepro.labelfree.data import balanced_subset
from xairepro.labelfree.explain import EXPLAINERS as ALL_EXPLAINERS
from xairepro.labelfree.steps import consistency_examples, example_importance
from xairepro.labelfree.tables import example_consistency_claims
from xairepro.labelfree.train import train_denoiser
from xairepro.lossgrad.data import make_demo_digits

EXPLAINERS = list(ALL_EXPLAINERS)


def test_balanced_subset_cycles_through_the_classes():
    labels = torch.tensor([3, 0, 1, 0, 2, 1, 2, 3, 0, 1, 2, 3])
    idx = balanced_subset(labels, 8, n_classes=4)
    assert labels[idx].tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    with pytest.raises(ValueError, match="fewer than"):
        balanced_subset(labels, 16, n_classes=4)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("examples")
    save_arrays(tmp / "mnist.npz", **make_demo_digits(seed=0))
    record = train_denoiser(tmp / "mnist.npz", tmp / "dae.pt", tmp / "dae.json", tmp / "snaps", tmp / "ck.pt",
                            latent_dim=4, epochs=4, batch_size=64, lr=1e-3, weight_decay=1e-5, noise_level=0.3,
                            checkpoint_interval=2, seed=0)
    example_importance(tmp / "mnist.npz", tmp / "dae.pt", tmp / "snaps", tmp / "scores.npz", explainers=EXPLAINERS,
                       subtrain_size=100, subtest_size=50, recursion_depth=5, damping=1e-3, scale=1000.0,
                       simplex_epochs=200, seed=0)
    rates = consistency_examples(tmp / "scores.npz", explainers=EXPLAINERS, fractions=[0.1, 0.5, 1.0])
    return tmp, record, rates


def test_denoiser_writes_one_snapshot_per_interval(run):
    tmp, record, _ = run
    assert sorted(p.name for p in (tmp / "snaps").iterdir()) == ["epoch2.pt", "epoch4.pt"]
    assert record["snapshots"] == ["epoch2", "epoch4"]
    assert not (tmp / "ck.pt").exists() and read_json(tmp / "dae.json")["history"][-1]["epoch"] == 4


def test_every_explainer_scores_every_pair(run):
    tmp, _, _ = run
    scores = load_arrays(tmp / "scores.npz", required=("train_labels", "test_labels", *EXPLAINERS))
    for name in EXPLAINERS:
        assert scores[name].shape == (50, 100)
    assert sorted(set(scores["train_labels"].tolist())) == list(range(10))


def test_selecting_every_example_gives_the_class_share(run):
    _, _, rates = run
    assert (rates.loc[rates.fraction == 1.0, "similarity_rate"] - 0.1).abs().max() < 1e-6  # balanced: 1/10
    assert set(rates["labels"]) == {"true", "shuffled"} and rates["item"].nunique() == 50


def test_shuffled_label_control_scores_against_the_controls_permutation(run):
    tmp, _, rates = run
    scores = load_arrays(tmp / "scores.npz")
    train_labels = torch.from_numpy(shuffled(scores["train_labels"], 0))
    top = torch.from_numpy(scores["dknn"]).topk(10, dim=1).indices
    expected = (train_labels[top] == torch.from_numpy(scores["test_labels"]).unsqueeze(1)).float().mean(dim=1)
    got = rates[(rates.explainer == "dknn") & (rates.fraction == 0.1) & (rates.examples == "most important")
                & (rates["labels"] == "shuffled")].sort_values("item")
    np.testing.assert_allclose(got.similarity_rate, expected.numpy())


def test_most_important_examples_share_the_label(run):
    _, _, rates = run
    claims = example_consistency_claims(rates[rates.explainer == "dknn"].assign(seed=0), "MNIST")
    assert len(claims) == 2 and (claims.control != "").all()
    assert failed_claims(claims) == [], claims.to_string()
    assert not claims.control_pass.any()


def test_explainer_at_chance_fails_the_claims(run):
    _, _, rates = run
    chance = rates[rates["labels"] == "shuffled"]
    table = pd.concat([chance, chance.assign(labels="true")]).assign(seed=0)
    claims = example_consistency_claims(table[table.explainer == "dknn"], "MNIST")
    assert claims.verdict.tolist() == ["fail", "fail"]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_example_importance_on_cuda_matches_the_cpu(run):
    # SimplEx's start and TracIn's sum were CPU tensors meeting CUDA latents/gradients
    tmp, _, _ = run
    scores = {}
    for device in ("cpu", "cuda"):
        scores[device] = example_importance(
            tmp / "mnist.npz", tmp / "dae.pt", tmp / "snaps", tmp / f"scores_{device}.npz", explainers=EXPLAINERS,
            subtrain_size=100, subtest_size=50, recursion_depth=5, damping=1e-3, scale=1000.0, simplex_epochs=200,
            seed=0, device=device)
    for name in EXPLAINERS:
        np.testing.assert_allclose(scores["cuda"][name], scores["cpu"][name], rtol=1e-3, atol=1e-5, err_msg=name)
