"""The baseline ResNet and DisentangleNet: shapes, concept dropout, derived layer size."""

import torch

from xairepro.pianist.models import DisentangleNet, ResNet, build_model

SMALL = {"block": "basic", "layers": (1, 1, 1, 1), "width": 4, "stem": "small"}


def test_baseline_maps_a_roll_to_logits_for_both_block_types():
    x = torch.rand(2, 1, 88, 60)
    assert ResNet(5, **SMALL)(x).shape == (2, 5)
    assert ResNet(3, "bottleneck", (1, 1, 1, 1), 4, "imagenet")(x).shape == (2, 3)


def test_concept_dropout_zeroes_one_to_three_embeddings_in_training_only():
    torch.manual_seed(0)
    model = DisentangleNet(4, **SMALL, mask_prob=1.0, max_masked=3)
    x = torch.rand(64, 4, 88, 60)
    model.train()
    emb = model.embeddings(x)
    zeroed = (emb.abs().sum(-1) == 0).sum(1)
    assert zeroed.min() >= 1 and zeroed.max() <= 3 and len(set(zeroed.tolist())) > 1
    model.eval()
    assert (model.embeddings(x).abs().sum(-1) > 0).all()


def test_disentangle_logits_average_the_concept_embeddings():
    model = build_model("disentangle", 4, {**SMALL, "mask_prob": 0.3, "max_masked": 3, "dropout": 0.5}).eval()
    x = torch.rand(3, 4, 88, 60)
    expected = model.fc(model.embeddings(x).mean(1))
    torch.testing.assert_close(model(x), expected)
    # the harmony branch only sees channel 1
    y = x.clone()
    y[:, 1] = 0
    assert not torch.allclose(model.branches["harmony"](x[:, 1:2]), model.branches["harmony"](y[:, 1:2]))


def test_accuracy_control_reinitialises_every_layer_of_both_models():
    """The accuracy claims' control (randomised_copy, all layers): every convolution and
    linear weight of every branch differs from the trained one, which stays as it was."""
    from xairepro.common.controls import randomised_copy

    torch.manual_seed(0)
    for model in (ResNet(4, **SMALL), DisentangleNet(4, **SMALL)):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)  # "trained": away from any initialisation
        trained = {k: v.clone() for k, v in model.state_dict().items()}
        control = randomised_copy(model, seed=0).state_dict()
        weights = [k for k, v in trained.items() if k.endswith("weight") and v.dim() > 1]
        assert weights and all(not torch.equal(control[k], trained[k]) for k in weights)
        assert all(torch.equal(model.state_dict()[k], trained[k]) for k in trained)
