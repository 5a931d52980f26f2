"""The recipes' published models (``esc50.weights: published``), without network.

Each test writes checkpoint files as the originals hold them: SpeechBrain ``.ckpt`` files are
``torch.save(module.state_dict())`` of the recipe's own classes (``PIQ.Conv2dEncoder_v2``,
``Cnn14.Cnn14``, ``ECAPA_TDNN.Classifier``, ``PIQ.VectorQuantizedPSI_Audio``,
``L2I.PsiOptimized``/``Theta``/``NMFDecoderAudio``); FocalNet's ``embedding_model.ckpt`` is a
transformers ``FocalNetBackbone`` (``focalnet.*``), ViT's a ``ViTModel`` with its pooler in
transformers 4's key names (``encoder.layer.<i>.attention.attention.query``). The models are
built at reduced width with the same key names, and what our loaders build must compute
what the original modules compute from the same tensors.
"""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from speechbrain.lobes.models.Cnn14 import Cnn14
from speechbrain.lobes.models.ECAPA_TDNN import Classifier
from speechbrain.lobes.models.L2I import NMFDecoderAudio, PsiOptimized, Theta
from speechbrain.lobes.models.PIQ import Conv2dEncoder_v2, VectorQuantizedPSI_Audio

from xairepro.common.errors import InputError
from xairepro.common.io import load_torch, save_torch
from xairepro.esc50.models import L2I, build_piq, load_classifier, nmf_dictionary, to_image
from xairepro.esc50.published import (
    classifier_record, fetch_published, import_interpreter, published_classifier, vit4_names,
)

TINY = {"emb_dim": 8, "n_mels": 32, "lin_neurons": 8, "depths": [1, 1], "heads": 2}
N_CLASSES = 5
# transformers 5's ViT module names -> transformers 4's, which the published file holds
VIT4 = (("attention.q_proj", "attention.attention.query"), ("attention.k_proj", "attention.attention.key"),
        ("attention.v_proj", "attention.attention.value"), ("attention.o_proj", "attention.output.dense"),
        ("mlp.fc1", "intermediate.dense"), ("mlp.fc2", "output.dense"))


def _vit4_names(state):
    out = {}
    for key, value in state.items():
        if key.startswith("layers."):
            _, i, rest = key.split(".", 2)
            for new, old in VIT4:
                if rest.startswith(new + "."):
                    rest = old + rest[len(new):]
            key = f"encoder.layer.{i}.{rest}"
        out[key] = value
    return out


def _original_encoder(arch):
    """The recipe's embedding model at reduced width, its published state dict, and its forward
    to the (B, emb) embedding the recipe feeds the head (classification/train.py:59-82)."""
    torch.manual_seed(0)
    if arch == "conv2d":
        enc = Conv2dEncoder_v2(dim=8).eval()
        return enc.state_dict(), lambda model, X: enc(X).mean((-1, -2))
    if arch == "cnn14":
        enc = Cnn14(mel_bins=32, emb_dim=8).eval()

        def embed(model, X):
            out = enc(model.fbank(X))  # our fixed log-mel front end; the encoder is the recipe's
            return (out[0] if isinstance(out, tuple) else out).reshape(len(X), -1)

        return enc.state_dict(), embed
    if arch == "focalnet":
        from transformers import FocalNetBackbone, FocalNetConfig

        enc = FocalNetBackbone(FocalNetConfig(image_size=224, patch_size=4, embed_dim=8, depths=[1, 1],
                                              focal_levels=[2, 2], hidden_sizes=[8, 16])).eval()
        # the model's final layer norm, which the backbone's output skips: far from identity
        torch.nn.init.normal_(enc.focalnet.layernorm.weight, std=3.0)
        torch.nn.init.normal_(enc.focalnet.layernorm.bias, std=3.0)
        return enc.state_dict(), lambda model, X: enc(to_image(X)).feature_maps[-1].mean((-1, -2))
    from transformers import ViTConfig, ViTModel

    config = ViTConfig(image_size=224, patch_size=16, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=32)
    config._attn_implementation = "eager"
    enc = ViTModel(config).eval()  # with its pooler, as from_pretrained builds it
    state = vit4_names(enc.state_dict())
    assert state.keys() == _vit4_names(enc.state_dict()).keys()
    return state, lambda model, X: enc(pixel_values=to_image(X)).last_hidden_state.mean(1)


def _write_classifier(tmp_path, arch):
    state, embed = _original_encoder(arch)
    torch.manual_seed(1)
    head = Classifier(input_size=16 if arch == "focalnet" else 8, lin_blocks=1, lin_neurons=8,
                      out_neurons=N_CLASSES).eval()
    emb_path, head_path = tmp_path / f"{arch}_embedding.ckpt", tmp_path / f"{arch}_classifier.ckpt"
    torch.save(state, emb_path)
    torch.save(head.state_dict(), head_path)
    return emb_path, head_path, embed, head


@pytest.mark.parametrize("arch", ["conv2d", "cnn14", "focalnet", "vit"])
def test_published_classifier_computes_the_recipes_forward(tmp_path, arch):
    emb_path, head_path, embed, head = _write_classifier(tmp_path, arch)
    if arch == "vit":
        published = torch.load(emb_path, weights_only=True)
        assert "encoder.layer.0.attention.attention.query.weight" in published and "pooler.dense.weight" in published
    if arch == "focalnet":
        assert all(k.startswith("focalnet.") for k in torch.load(emb_path, weights_only=True))
    model = published_classifier(arch, N_CLASSES, 16000, TINY, emb_path, head_path)
    X = torch.rand(2, 431, 513)
    with torch.no_grad():
        expected = head(embed(model, X).unsqueeze(1)).squeeze(1)
        torch.testing.assert_close(model(X), expected, rtol=1e-5, atol=1e-6)
    # written and read back as the interpretation rules read a trained classifier
    save_torch(tmp_path / "clf.pt", classifier_record(model, N_CLASSES, 16000, TINY))
    with torch.no_grad():
        torch.testing.assert_close(load_classifier(tmp_path / "clf.pt")(X), expected, rtol=1e-5, atol=1e-6)


def test_a_renamed_key_stops_with_the_file_and_the_key(tmp_path):
    emb_path, head_path, _, _ = _write_classifier(tmp_path, "conv2d")
    state = torch.load(emb_path, weights_only=True)
    first = next(iter(state))
    state["renamed." + first] = state.pop(first)
    torch.save(state, emb_path)
    with pytest.raises(InputError) as err:
        published_classifier("conv2d", N_CLASSES, 16000, TINY, emb_path, head_path)
    assert str(emb_path) in str(err.value) and f"'{first}'" in str(err.value) and "missing" in str(err.value)


def test_a_head_of_another_width_stops_with_the_file_and_the_shapes(tmp_path):
    emb_path, head_path, _, _ = _write_classifier(tmp_path, "conv2d")
    torch.save(Classifier(input_size=8, lin_blocks=1, lin_neurons=8, out_neurons=N_CLASSES + 1).state_dict(),
               head_path)
    with pytest.raises(InputError) as err:
        published_classifier("conv2d", N_CLASSES, 16000, TINY, emb_path, head_path)
    message = str(err.value)
    assert str(head_path) in message and "has shape" in message and f"{N_CLASSES + 1}" in message


def test_a_focalnet_file_that_is_not_a_backbone_is_refused(tmp_path):
    emb_path, head_path, _, _ = _write_classifier(tmp_path, "focalnet")
    state = torch.load(emb_path, weights_only=True)
    torch.save({k[len("focalnet."):]: v for k, v in state.items()}, emb_path)  # a bare FocalNetModel
    with pytest.raises(InputError, match="not under 'focalnet.'"):
        published_classifier("focalnet", N_CLASSES, 16000, TINY, emb_path, head_path)


def test_a_pickled_module_is_never_loaded(tmp_path):
    emb_path, head_path, _, _ = _write_classifier(tmp_path, "conv2d")
    torch.save({"encoder": Conv2dEncoder_v2(dim=8)}, emb_path)
    with pytest.raises(InputError):
        published_classifier("conv2d", N_CLASSES, 16000, TINY, emb_path, head_path)


@pytest.fixture
def conv2d_classifier(tmp_path):
    emb_path, head_path, _, _ = _write_classifier(tmp_path, "conv2d")
    model = published_classifier("conv2d", N_CLASSES, 16000, TINY, emb_path, head_path)
    path = tmp_path / "classifier.pt"
    save_torch(path, classifier_record(model, N_CLASSES, 16000, TINY))
    return path, model


def test_published_piq_decoder_decodes_as_the_original(tmp_path, conv2d_classifier):
    clf_path, clf = conv2d_classifier
    cfg = {"K": 6, "shared_keys": 0}
    torch.manual_seed(2)
    psi = VectorQuantizedPSI_Audio(dim=8, K=6, numclasses=N_CLASSES, activate_class_partitioning=True,
                                   shared_keys=0, use_adapter=True, adapter_reduce_dim=True).eval()
    torch.save(psi.state_dict(), tmp_path / "psi_model.ckpt")
    import_interpreter("piq", tmp_path / "piq.pt", classifier_path=clf_path, psi_ckpt=tmp_path / "psi_model.ckpt",
                       cfg=cfg)
    record = load_torch(tmp_path / "piq.pt")
    ours = build_piq(record["arch"], record["emb_dim"], record["n_classes"], record["cfg"])
    ours.load_state_dict(record["state_dict"])
    ours.eval()
    with torch.no_grad():
        reps = clf.representations(torch.rand(2, 431, 513))
        labels = torch.tensor([0, 3])
        torch.testing.assert_close(ours(reps, labels)[0], psi(reps, labels)[0], rtol=0, atol=0)


def test_published_l2i_and_nmf_match_the_originals(tmp_path, conv2d_classifier):
    clf_path, clf = conv2d_classifier
    cfg = {"K": 6, "relevance_th": 0.2}
    torch.manual_seed(3)
    psi = PsiOptimized(dim=8, K=6, numclasses=N_CLASSES, use_adapter=False, adapter_reduce_dim=False).eval()
    theta = Theta(n_comp=6, T=417, num_classes=N_CLASSES).eval()
    nmf = NMFDecoderAudio(6, 513)
    for name, module in (("psi", psi), ("theta", theta), ("nmf", nmf)):
        torch.save(module.state_dict(), tmp_path / f"{name}.ckpt")
    import_interpreter("l2i", tmp_path / "l2i.pt", classifier_path=clf_path, psi_ckpt=tmp_path / "psi.ckpt",
                       theta_ckpt=tmp_path / "theta.ckpt", cfg=cfg)
    import_interpreter("nmf", tmp_path / "nmf.pt", nmf_ckpt=tmp_path / "nmf.ckpt")
    record = load_torch(tmp_path / "l2i.pt")
    ours = L2I(record["arch"], record["emb_dim"], record["n_classes"], record["n_frames"], record["cfg"]).eval()
    ours.load_state_dict(record["state_dict"])
    with torch.no_grad():
        reps = clf.representations(torch.rand(2, 431, 513))
        H = ours.activations(reps)
        torch.testing.assert_close(H, psi(reps)[0].squeeze(1).transpose(1, 2), rtol=0, atol=0)
        torch.testing.assert_close(ours.theta(H), theta(H), rtol=0, atol=0)
    torch.testing.assert_close(nmf_dictionary(tmp_path / "nmf.pt"), torch.relu(nmf.W.detach()), rtol=0, atol=0)


def test_an_nmf_file_of_another_kind_is_refused(tmp_path):
    torch.save({"weight": torch.ones(2)}, tmp_path / "nmf.ckpt")
    with pytest.raises(InputError, match="'W'"):
        import_interpreter("nmf", tmp_path / "nmf.pt", nmf_ckpt=tmp_path / "nmf.ckpt")


def test_fetch_reads_the_users_folder_and_checks_the_pinned_checksum(tmp_path):
    import hashlib

    folder = tmp_path / "mine"
    folder.mkdir()
    torch.save(Classifier(input_size=8, lin_neurons=8, out_neurons=3).state_dict(), folder / "conv2d_classifier.ckpt")
    digest = hashlib.sha256((folder / "conv2d_classifier.ckpt").read_bytes()).hexdigest()
    dest = tmp_path / "published" / "conv2d_classifier.ckpt"
    fetch_published(dest, None, f"sha256:{digest}", str(folder), "conv2d_classifier")
    assert dest.read_bytes() == (folder / "conv2d_classifier.ckpt").read_bytes()
    dest.unlink()
    with pytest.raises(InputError):
        fetch_published(dest, None, "sha256:" + "0" * 64, str(folder), "conv2d_classifier")
    with pytest.raises(InputError, match="place it there by hand"):
        fetch_published(tmp_path / "published" / "vit_piq.ckpt", None, None, None, "vit_piq")


def test_fetch_downloads_a_file_url_and_checks_it_is_a_state_dict(tmp_path):
    source = tmp_path / "nmf_decoder.ckpt"
    torch.save(NMFDecoderAudio(6, 513).state_dict(), source)
    dest = tmp_path / "published" / "nmf.ckpt"
    fetch_published(dest, source.as_uri(), None, None, "nmf")
    assert set(torch.load(dest, weights_only=True)) == {"W"}


def _dry_run(root: Path, workdir: Path, *config: str) -> subprocess.CompletedProcess:
    snakemake = Path(sys.executable).parent / "snakemake"
    return subprocess.run([str(snakemake), "-s", str(root / "Snakefile"), "--directory", str(workdir), "-n",
                           "--cores", "2", *config, "--", "esc50"],
                          cwd=root, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)


def test_published_dag_has_no_training_job(root, tmp_path):
    folder = tmp_path / "weights"
    override = tmp_path / "published.yaml"
    override.write_text(f"esc50:\n  weights: published\n  published:\n    paper:\n      dir: {folder}\n")
    proc = _dry_run(root, tmp_path / "run", "--config", "scale=paper", "--configfile", str(override))
    assert proc.returncode == 0, proc.stdout[-3000:]
    jobs = {line.split()[0] for line in proc.stdout.splitlines() if line.startswith("rule ")}
    jobs = {j.rstrip(":") for j in jobs} | {line.split()[0] for line in proc.stdout.splitlines()
                                            if line.startswith("esc50_")}
    assert not [j for j in jobs if j.startswith("esc50_train")], jobs
    for needed in ("esc50_download_published", "esc50_import_classifier", "esc50_import_interpreter",
                   "esc50_compute_interpretations", "esc50_plot_interpretations", "esc50_write_claims"):
        assert needed in jobs
    assert "data/paper/esc50/published/conv2d_embedding.ckpt" in proc.stdout


def test_published_weights_at_demo_scale_stop_with_one_message(root, tmp_path):
    override = tmp_path / "published.yaml"
    override.write_text("esc50:\n  weights: published\n")
    proc = _dry_run(root, tmp_path / "run", "--configfile", str(override))
    assert proc.returncode != 0
    assert "esc50.weights: published needs --config scale=paper" in proc.stdout
