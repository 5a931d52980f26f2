"""Claim 1.2 beyond MNIST: the ECG5000 and CIFAR example-importance data and runs."""

import numpy as np
import pytest
import torch

from xairepro.common.io import save_arrays
from xairepro.labelfree.data import example_classes, example_data, example_subsets
from xairepro.labelfree.explain import encoder_parameters
from xairepro.labelfree.models import RecurrentAutoencoder
from xairepro.labelfree.steps import example_importance
from xairepro.labelfree.train import train_denoiser


@pytest.fixture
def ecg(tmp_path):
    """50 short beats: classes 1 (normal, 30) and 2-5 (abnormal, 20)."""
    rng = np.random.default_rng(0)
    labels = np.concatenate([np.ones(30, dtype=int), 2 + np.arange(20) % 4])
    beats = 0.1 * rng.normal(size=(50, 16)).astype(np.float32) + labels[:, None]
    save_arrays(tmp_path / "ecg.npz", beats=beats, labels=labels)
    return tmp_path / "ecg.npz"


def test_ecg_examples_are_every_beat_normal_vs_abnormal_split_by_seed(ecg):
    train_x, train_y, test_x, test_y = example_data(ecg, "ecg", seed=3)
    assert train_x.shape == (40, 1, 16) and test_x.shape == (10, 1, 16)
    assert sorted(torch.cat([train_y, test_y]).tolist()) == [0] * 30 + [1] * 20
    # the label follows the beat: abnormal beats carry offsets >= 2
    assert torch.equal(torch.cat([train_y, test_y]), (torch.cat([train_x, test_x]).mean(dim=(1, 2)) > 1.5).long())
    again = example_data(ecg, "ecg", seed=3)
    assert torch.equal(again[2], test_x)
    assert not torch.equal(example_data(ecg, "ecg", seed=4)[2], test_x)


def test_example_subsets_balanced_train_random_ecg_test():
    train_y = torch.tensor([0, 0, 1, 0, 1, 1, 0, 1])
    test_y = torch.tensor([1, 1, 1, 1, 0, 1])
    sub_train, sub_test = example_subsets(train_y, test_y, "ecg", 4, 3, seed=0)
    assert train_y[sub_train].tolist() == [0, 1, 0, 1]
    assert len(set(sub_test.tolist())) == 3
    assert torch.equal(sub_test, example_subsets(train_y, test_y, "ecg", 4, 3, seed=0)[1])
    # CIFAR-100: a subset smaller than the class count needs only the classes it draws
    labels = torch.arange(30)
    sub_train, sub_test = example_subsets(labels, labels, "cifar100", 20, 10, seed=0)
    assert labels[sub_train].tolist() == list(range(20)) and labels[sub_test].tolist() == list(range(10))
    assert [example_classes(d) for d in ("mnist", "cifar10", "cifar100", "ecg")] == [10, 10, 100, 2]


def test_recurrent_encoder_parameters_are_the_encoder_lstms():
    names = encoder_parameters(RecurrentAutoencoder(latent_dim=2))
    assert names and all(name.startswith(("enc1.", "enc2.")) for name in names)


def test_ecg_example_importance_end_to_end(ecg, tmp_path):
    train_denoiser(ecg, tmp_path / "ae.pt", tmp_path / "ae.json", tmp_path / "snaps", tmp_path / "ck.pt",
                            latent_dim=2, epochs=2, batch_size=10, lr=1e-3, weight_decay=1e-5, noise_level=0.0,
                            checkpoint_interval=1, seed=0, dataset="ecg", loss="l1")
    explainers = ["influence_functions", "tracin", "simplex", "dknn"]
    scores = example_importance(ecg, tmp_path / "ae.pt", tmp_path / "snaps", tmp_path / "scores.npz",
                                explainers=explainers, subtrain_size=4, subtest_size=3, recursion_depth=1,
                                damping=1e-3, scale=1000.0, simplex_epochs=5, seed=0, dataset="ecg", loss="l1")
    assert sorted(scores["train_labels"].tolist()) == [0, 0, 1, 1]
    for name in explainers:
        assert scores[name].shape == (3, 4) and np.isfinite(scores[name]).all()


def test_cifar_example_importance_end_to_end(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (40, 3, 32, 32), dtype=np.uint8)
    save_arrays(tmp_path / "cifar100.npz", train_x=images, train_y=np.arange(40) % 20,
                test_x=images[:20], test_y=np.arange(20))
    train_denoiser(tmp_path / "cifar100.npz", tmp_path / "ae.pt", tmp_path / "ae.json", tmp_path / "snaps",
                   tmp_path / "ck.pt", latent_dim=16, epochs=1, batch_size=20, lr=1e-3, weight_decay=1e-5,
                   noise_level=0.3, checkpoint_interval=1, seed=0, dataset="cifar100")
    scores = example_importance(tmp_path / "cifar100.npz", tmp_path / "ae.pt", tmp_path / "snaps",
                                tmp_path / "scores.npz", explainers=["tracin", "dknn", "cosine"], subtrain_size=20,
                                subtest_size=10, recursion_depth=1, damping=1e-3, scale=1000.0, simplex_epochs=5,
                                seed=0, dataset="cifar100")
    assert scores["train_labels"].tolist() == list(range(20))
    assert all(scores[name].shape == (10, 20) for name in ("tracin", "dknn", "cosine"))
