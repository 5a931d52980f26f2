"""The recipes' starting points and schedule at paper scale: pretrained encoders read from
files in the originals' formats and key names, and the cyclic learning rate.

The checkpoint files are written here as the originals write them: SpeechBrain's
``Checkpointer``/``Pretrainer`` keep a module as ``torch.save(module.state_dict())``
(``embedding_model.ckpt`` of speechbrain/PIQ-ESC50 and speechbrain/cnn14-esc50, built from
``PIQ.Conv2dEncoder_v2`` and ``Cnn14.Cnn14`` as conv2d.yaml:68 and cnn14.yaml:83 build
them); the Hugging Face ImageNet models (microsoft/focalnet-base, google/vit-base-patch16-224)
are ``*ForImageClassification`` state dicts with the backbone under ``focalnet.`` / ``vit.``
and a ``classifier.*`` head, in ``pytorch_model.bin`` or ``model.safetensors``; ViT's with
transformers 4's module names (``encoder.layer.<i>.attention.attention.query``), which
transformers 5 renamed.
"""

import math

import pytest
import speechbrain as sb
import torch
from safetensors.torch import save_file
from speechbrain.lobes.models.Cnn14 import Cnn14
from speechbrain.lobes.models.PIQ import Conv2dEncoder_v2
from speechbrain.nnet.schedulers import CyclicLRScheduler

from xairepro.common.errors import InputError
from xairepro.esc50.models import SoundClassifier, aam_loss, load_pretrained_encoder
from xairepro.esc50.train import ClassifierBrain, classifier_lr_schedule, cyclic_iterations

TINY = {"emb_dim": 8, "n_mels": 32, "lin_neurons": 8, "depths": [1, 1], "heads": 2}


def _assert_encoder_is(model, reference_state, prefix=""):
    own = model.embedding_model.state_dict()
    for key, value in reference_state.items():
        if key.startswith(prefix):
            torch.testing.assert_close(own[key[len(prefix):]], value, rtol=0, atol=0)


@pytest.mark.parametrize("arch", ["conv2d", "cnn14"])
def test_speechbrain_embedding_model_ckpt_loads_into_the_encoder(tmp_path, arch):
    torch.manual_seed(0)
    # the recipe's own constructors (no l2i/return_reps flags): the same parameters as ours
    source = Conv2dEncoder_v2(dim=8) if arch == "conv2d" else Cnn14(mel_bins=32, emb_dim=8)
    path = tmp_path / "embedding_model.ckpt"
    torch.save(source.state_dict(), path)
    torch.manual_seed(1)
    model = SoundClassifier(arch, 5, 16000, TINY)
    head = {k: v.clone() for k, v in model.classifier.state_dict().items()}
    load_pretrained_encoder(model, path)
    _assert_encoder_is(model, source.state_dict())
    for key, value in model.classifier.state_dict().items():  # the head stays new, as in the recipe
        assert torch.equal(value, head[key])


def _published_vit_names(state):
    """google/vit-base-patch16-224's key names (transformers 4's ViTForImageClassification)
    for a state dict of the installed ViT, whose modules transformers 5 renamed."""
    legacy = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[:2] == ["vit", "layers"]:
            i, rest = parts[2], ".".join(parts[3:])
            for new, old in (("attention.q_proj", "attention.attention.query"),
                             ("attention.k_proj", "attention.attention.key"),
                             ("attention.v_proj", "attention.attention.value"),
                             ("attention.o_proj", "attention.output.dense"),
                             ("mlp.fc1", "intermediate.dense"), ("mlp.fc2", "output.dense")):
                if rest.startswith(new + "."):
                    rest = old + rest[len(new):]
                    break
            key = f"vit.encoder.layer.{i}.{rest}"
        legacy[key] = value
    return legacy


def _hf_image_classifier(arch):
    torch.manual_seed(0)
    if arch == "focalnet":
        from transformers import FocalNetConfig, FocalNetForImageClassification

        config = FocalNetConfig(image_size=224, patch_size=4, embed_dim=8, depths=[1, 1], focal_levels=[2, 2],
                                num_labels=1000)
        return FocalNetForImageClassification(config)
    from transformers import ViTConfig, ViTForImageClassification

    config = ViTConfig(image_size=224, patch_size=16, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=32, num_labels=1000)
    return ViTForImageClassification(config)


@pytest.mark.parametrize("arch,filename", [("focalnet", "pytorch_model.bin"), ("focalnet", "model.safetensors"),
                                           ("vit", "pytorch_model.bin"), ("vit", "model.safetensors")],
                         ids=["focalnet-bin", "focalnet-safetensors", "vit-bin", "vit-safetensors"])
def test_hugging_face_imagenet_weights_load_into_the_backbone(tmp_path, arch, filename):
    source = _hf_image_classifier(arch)
    state = {k: v.contiguous() for k, v in source.state_dict().items()}
    published = _published_vit_names(state) if arch == "vit" else state
    assert any(k.startswith("classifier.") for k in published)  # an ImageNet head, dropped on loading
    if arch == "vit":
        assert "vit.encoder.layer.0.attention.attention.query.weight" in published
        assert "vit.encoder.layer.1.output.dense.bias" in published and "vit.layernorm.weight" in published
    path = tmp_path / filename
    save_file(published, str(path)) if filename.endswith(".safetensors") else torch.save(published, path)
    torch.manual_seed(1)
    model = SoundClassifier(arch, 5, 16000, TINY)
    load_pretrained_encoder(model, path)
    _assert_encoder_is(model, state, prefix=f"{arch}.")
    X = torch.rand(2, 431, 513)
    assert model(X).shape == (2, 5)


def test_missing_weights_stop_with_the_path_and_where_to_get_them(tmp_path):
    model = SoundClassifier("cnn14", 5, 44100, TINY)
    path = tmp_path / "cnn14" / "embedding_model.ckpt"
    with pytest.raises(InputError) as err:
        load_pretrained_encoder(model, path)
    assert str(path) in str(err.value) and "huggingface.co/speechbrain/cnn14-esc50" in str(err.value)


def test_weights_of_another_width_are_refused_with_the_keys(tmp_path):
    path = tmp_path / "embedding_model.ckpt"
    torch.save(Conv2dEncoder_v2(dim=16).state_dict(), path)
    with pytest.raises(InputError, match="wrong shape"):
        load_pretrained_encoder(SoundClassifier("conv2d", 5, 16000, TINY), path)


def test_pickled_objects_are_never_loaded(tmp_path):
    path = tmp_path / "embedding_model.ckpt"
    torch.save({"encoder": Conv2dEncoder_v2(dim=8)}, path)  # a whole module, not a state dict
    with pytest.raises(InputError):
        load_pretrained_encoder(SoundClassifier("conv2d", 5, 16000, TINY), path)


def _triangular(k, base, top, step):
    """The triangular CLR rate at iteration k (Smith 2017, eq. in sec. 3.1)."""
    cycle = math.floor(1 + k / (2 * step))
    return base + (top - base) * max(0.0, 1 - abs(k / step - 2 * cycle + 1))


def test_cyclic_schedule_steps_like_the_recipe_over_training_and_validation_batches():
    """Every training step runs at the triangular rate of its iteration, where an epoch counts
    its training and its validation batches (the recipe steps the scheduler on both)."""
    cfg = {"lr_annealing": "cyclic", "base_lr": 0.001, "lr": 0.01, "step_size": 4}
    scheduler = classifier_lr_schedule(cfg)
    assert isinstance(scheduler, CyclicLRScheduler)
    assert classifier_lr_schedule({**cfg, "lr_annealing": "constant"}) is None

    class Scores(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(6, 3)

        def forward(self, X):
            return torch.nn.functional.normalize(self.lin(X.flatten(1)), dim=1)

    brain = ClassifierBrain({"model": Scores()}, {"loss": aam_loss(), "mask_augment": 0.0, "scheduler": scheduler},
                            lr=cfg["lr"])
    n_train, n_valid, batch = 10, 5, 4  # 3 training + 2 validation batches per epoch
    X, y = torch.rand(n_train, 2, 3), torch.randint(0, 3, (n_train,))
    rates = []
    for epoch in range(3):
        scheduler.clr_iterations = cyclic_iterations(epoch, n_train, n_valid, batch)
        for idx in torch.arange(n_train).split(batch):
            brain.fit_batch((X[idx], y[idx]))
            rates.append(brain.optimizer.param_groups[0]["lr"])
    expected = [_triangular(e * 5 + b, 0.001, 0.01, 4) for e in range(3) for b in (1, 2, 3)]
    assert rates == pytest.approx(expected)
    assert max(rates) == pytest.approx(0.01) and min(rates) < 0.004  # it cycles


def test_schedule_is_not_stepped_outside_training():
    scheduler = classifier_lr_schedule({"lr_annealing": "cyclic", "base_lr": 0.001, "lr": 0.01, "step_size": 4})
    model = torch.nn.Linear(6, 3)
    brain = ClassifierBrain({"model": model}, {"loss": aam_loss(), "mask_augment": 0.0, "scheduler": scheduler},
                            lr=0.01)
    scores = torch.nn.functional.normalize(torch.rand(2, 3), dim=1)
    brain.compute_objectives(scores, (None, torch.zeros(2, dtype=torch.long)), sb.Stage.VALID)
    assert scheduler.clr_iterations == 0


def test_recipe_schedule_only_rises_over_its_200_epochs():
    """conv2d.yaml's numbers: 51 batches per epoch (1200 training, 400 validation clips of 32)
    reach iteration 10200 of a 65000-step half cycle."""
    end = cyclic_iterations(200, 1200, 400, 32)
    assert end == 10200
    assert _triangular(end, 2e-6, 2e-5, 65000) == pytest.approx(2e-6 + 1.8e-5 * 10200 / 65000)


def test_paper_training_starts_from_the_placed_checkpoint(tmp_path):
    """train_classifier with use_pretrained and the cyclic schedule: at a vanishing rate the
    trained encoder is still the checkpoint's, and the record keeps the recipe's knobs."""
    from xairepro.common.io import load_torch
    from xairepro.esc50.data import write_demo_dataset
    from xairepro.esc50.train import train_classifier

    write_demo_dataset(tmp_path / "data", n_classes=3, clips_per_fold=1, seed=0)
    torch.manual_seed(0)
    encoder = Conv2dEncoder_v2(dim=4)
    torch.save(encoder.state_dict(), tmp_path / "embedding_model.ckpt")
    cfg = {"sample_rate": 16000, "emb_dim": 4, "lin_neurons": 8, "number_of_epochs": 2, "batch_size": 3,
           "lr": 1e-12, "weight_decay": 0.0, "margin": 0.2, "scale": 30, "use_pretrained": True,
           "embedding_model_path": str(tmp_path / "embedding_model.ckpt"), "lr_annealing": "cyclic",
           "base_lr": 1e-13, "step_size": 65000}
    record = train_classifier(tmp_path / "data", tmp_path / "m.pt", tmp_path / "m.json", tmp_path / "ck.pt",
                              arch="conv2d", seed=0, threads=1, folds={"train": [1, 2, 3], "valid": [4], "test": [5]},
                              cfg=cfg, pretrained_path=tmp_path / "embedding_model.ckpt")
    assert record["params"]["use_pretrained"] is True and record["params"]["lr_annealing"] == "cyclic"
    trained = load_torch(tmp_path / "m.pt")["state_dict"]
    for key, value in encoder.state_dict().items():
        if value.is_floating_point() and "running" not in key:  # precise BN recomputes the statistics
            torch.testing.assert_close(trained[f"embedding_model.{key}"], value, atol=1e-6, rtol=0)
    with pytest.raises(InputError, match="PIQ-ESC50"):
        train_classifier(tmp_path / "data", tmp_path / "n.pt", tmp_path / "n.json", tmp_path / "ck2.pt",
                         arch="conv2d", seed=0, threads=1, folds={"train": [1, 2, 3], "valid": [4], "test": [5]},
                         cfg=cfg, pretrained_path=tmp_path / "missing.ckpt")
