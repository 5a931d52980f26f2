"""--test_only: a classifier imported from SpeechBrain checkpoint files the test writes."""

import pytest
import torch
from speechbrain.lobes.models.ECAPA_TDNN import Classifier
from speechbrain.lobes.models.PIQ import Conv2dEncoder_v2

from xairepro.common.io import read_json
from xairepro.esc50.data import load_features, write_demo_dataset
from xairepro.esc50.models import load_classifier
from xairepro.esc50.train import import_speechbrain_classifier

FOLDS = {"train": [1, 2, 3], "valid": [4], "test": [5]}
CFG = {"sample_rate": 16000, "emb_dim": 4, "lin_neurons": 8}


def test_speechbrain_checkpoints_are_imported_exactly(tmp_path):
    write_demo_dataset(tmp_path / "data", n_classes=3, clips_per_fold=1, seed=0)
    torch.manual_seed(0)
    encoder, head = Conv2dEncoder_v2(dim=4).eval(), Classifier(input_size=4, lin_blocks=1, lin_neurons=8, out_neurons=3)
    head.eval()
    torch.save(encoder.state_dict(), tmp_path / "embedding_model.ckpt")
    torch.save(head.state_dict(), tmp_path / "classifier.ckpt")
    record = import_speechbrain_classifier(tmp_path / "data", tmp_path / "embedding_model.ckpt",
                                           tmp_path / "classifier.ckpt", tmp_path / "conv2d.pt", tmp_path / "conv2d.json",
                                           arch="conv2d", folds=FOLDS, cfg=CFG)
    assert read_json(tmp_path / "conv2d.json")["params"]["test_only"] is True
    assert 0 <= record["test_acc"] <= 1
    X, _, _, _ = load_features(tmp_path / "data", [5], 16000)
    with torch.no_grad():
        expected = head(encoder(X).mean((-1, -2)).unsqueeze(1)).squeeze(1)  # the recipe's forward
        got = load_classifier(tmp_path / "conv2d.pt")(X)
    assert torch.allclose(got, expected, atol=1e-5)


def test_checkpoint_of_another_architecture_is_refused(tmp_path):
    write_demo_dataset(tmp_path / "data", n_classes=3, clips_per_fold=1, seed=0)
    torch.save(Conv2dEncoder_v2(dim=8).state_dict(), tmp_path / "embedding_model.ckpt")
    torch.save(Classifier(input_size=4, lin_blocks=1, lin_neurons=8, out_neurons=3).state_dict(),
               tmp_path / "classifier.ckpt")
    with pytest.raises(RuntimeError, match="size mismatch"):
        import_speechbrain_classifier(tmp_path / "data", tmp_path / "embedding_model.ckpt", tmp_path / "classifier.ckpt",
                                      tmp_path / "m.pt", tmp_path / "m.json", arch="conv2d", folds=FOLDS, cfg=CFG)
    assert not (tmp_path / "m.pt").exists()
