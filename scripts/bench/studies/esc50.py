"""Benchmark hooks of the esc50 study (issue 10): interpreter kernels and paper-shaped epochs.

``kernels`` times the batched PIQ and L2I inference of this project against the recipes'
one-clip-at-a-time loop on the same random-init demo-width models; ``paper_epoch`` runs
training batches of the paper-shaped PIQ, NMF, L2I-conv2d and L2I-CNN14 models on
synthetic data (2000-clip ESC-50: 1200 training clips, 431 x 513 log-spectrograms).
Published epoch times are the interpret README's (RTX 3090).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from xairepro.common.bench import epoch_seconds
from xairepro.esc50.explain import L2IInterpreter, PIQInterpreter
from xairepro.esc50.models import L2I, SoundClassifier, build_piq
from xairepro.esc50.train import L2IBrain, NMFBrain, PIQBrain

T, FREQ = 431, 513
PUBLISHED_EPOCH_SECONDS = {"piq": 70.0, "nmf": 45.0, "l2i_conv2d": 70.0, "l2i_cnn14": 25.0}
TRAIN_CLIPS = 1200


def _demo_models(device: str, n_classes: int = 4, emb_dim: int = 8, K: int = 32):
    torch.manual_seed(0)
    cfg = {"emb_dim": emb_dim, "lin_neurons": 32}
    clf = SoundClassifier("conv2d", n_classes, 16000, cfg).to(device).eval().requires_grad_(False)
    psi = build_piq("conv2d", emb_dim, n_classes, {"K": K, "shared_keys": 0}).to(device).eval()
    l2i = L2I("conv2d", emb_dim, n_classes, T, {"K": 20}).to(device).eval()
    W = torch.rand(FREQ, 20, device=device)
    return clf, psi, l2i, W


def kernels(device: str = "cpu", n: int = 4) -> list[dict]:
    """PIQ and L2I inference: batched over ``n`` clips vs the recipes' per-clip loop."""
    clf, psi, l2i, W = _demo_models(device)
    gen = torch.Generator().manual_seed(0)
    X = (torch.rand(n, T, FREQ, generator=gen) * 3).to(device)
    out = []
    for name, interp in (("esc50/piq_inference", PIQInterpreter(clf, psi)),
                         ("esc50/l2i_inference", L2IInterpreter(clf, l2i, W, 0.2))):
        def batched(interp=interp):
            return interp.attribute(X, batch=n)

        def reference(interp=interp):
            return [interp.attribute(X[i:i + 1], batch=1) for i in range(n)]

        out.append({"name": name, "n": n, "batched": batched, "reference": reference, "fwd_bwd": None})
    return out


def paper_epoch(device: str = "cuda", max_batches: int | None = None, n_classes: int = 50,
                tiny: bool = False) -> list[dict]:
    """One training epoch (or ``max_batches`` batches) per paper-shaped model, synthetic data.

    Batch sizes are the recipes' (PIQ 16, NMF 2, L2I 2); the frozen classifier's forward
    pass is part of each PIQ/L2I step, as in the recipes (which do not cache it); the
    step itself is the workflow's ``Brain.fit_batch``.
    ``tiny`` shrinks widths and batches (same code path) for a quick test on the CPU.
    """
    torch.manual_seed(0)
    rows = []
    conv_dim, cnn_dim, vq_k, nmf_k = (4, 512, 8, 5) if tiny else (256, 2048, 1024, 100)
    piq_batch = 2 if tiny else 16

    def run(name: str, batch: int, make_step: Callable[[], Callable[[], None]]):
        step = make_step()
        seconds, timed = epoch_seconds(lambda i: step(), TRAIN_CLIPS // batch, max_batches, device)
        rows.append({"name": f"esc50/{name}", "seconds": seconds, "batches": TRAIN_CLIPS // batch,
                     "timed_batches": timed, "published_seconds": PUBLISHED_EPOCH_SECONDS[name]})

    def piq_step():
        clf = SoundClassifier("conv2d", n_classes, 16000, {"emb_dim": conv_dim, "lin_neurons": 192}).to(device).eval()
        psi = build_piq("conv2d", conv_dim, n_classes, {"K": vq_k, "shared_keys": 0})
        brain = PIQBrain({"psi": psi}, {"mask_th": 0.35, "rec_loss_coef": 1.0}, lr=2e-4, device=device)
        X = torch.rand(piq_batch, T, FREQ, device=device) * 3

        def step():
            with torch.no_grad():
                reps, scores = clf.representations(X), clf(X)
            brain.fit_batch((reps, scores, X))
        return step

    def nmf_step():
        from speechbrain.lobes.models.L2I import NMFDecoderAudio, NMFEncoder

        brain = NMFBrain({"encoder": NMFEncoder(FREQ, nmf_k), "decoder": NMFDecoderAudio(nmf_k, FREQ, device=device)},
                         {}, lr=2e-4, device=device)
        X = torch.rand(2, FREQ, T, device=device) * 3
        return lambda: brain.fit_batch((X,))

    def l2i_step(arch: str):
        def make():
            emb = conv_dim if arch == "conv2d" else cnn_dim
            cfg = {"emb_dim": emb, "lin_neurons": 192, "n_mels": 80}
            clf = SoundClassifier(arch, n_classes, 16000 if arch == "conv2d" else 44100, cfg).to(device).eval()
            brain = L2IBrain({"l2i": L2I(arch, emb, n_classes, T, {"K": nmf_k})},
                             {"W": torch.rand(FREQ, nmf_k, device=device), "alpha": 10.0, "beta": 0.8},
                             lr=2e-4, device=device)
            X = torch.rand(2, T, FREQ, device=device) * 3

            def step():
                with torch.no_grad():
                    reps, scores = clf.representations(X), clf(X)
                brain.fit_batch((reps, scores, X))
            return step
        return make

    run("piq", piq_batch, piq_step)
    run("nmf", 2, nmf_step)
    run("l2i_conv2d", 2, l2i_step("conv2d"))
    run("l2i_cnn14", 2, l2i_step("cnn14"))
    return rows
