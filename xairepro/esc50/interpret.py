"""Interpreters (PIQ, L2I, AMT), their evaluation on the test fold, and the overlap test.

Every interpreter shares one base class and overrides one method, ``masks(X)``, which
returns for a batch of log1p magnitudes X (B, T, F) the estimated mask M (B, T, F) in
[0, 1] and the interpretation (B, T, F) in the log1p-magnitude domain:

- PIQ: M = sigmoid of the decoder's output (417 frames; the last 14 frames are 0, the
  recipe crops them), interpretation = M * X.
- L2I: relevance r_k = theta_{c,k} * (attention-pooled H)_k, normalised by its maximum;
  components with r_k / max_k |r_k| > relevance_th are kept; interpretation = W H_kept; M = clamp(
  interpretation / X, 0, 1) (the ratio mask the metrics need).
- AMT: FocalNet: L2 norm over channels of the last stage's modulator; ViT: last layer
  CLS-to-patch attention averaged over heads; upsampled to (T, F) and thresholded at the
  ``quantile`` (0.90: the top 10 %); interpretation = M * X.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from xairepro.common.io import load_torch
from xairepro.esc50.data import read_planted
from xairepro.esc50.features import planted_mask
from xairepro.esc50.train import L2I, build_piq, load_classifier, load_features, nmf_dictionary
from xairepro.metrics.interpretation import faithfulness, fidelity_to_input, mask_mass_ratio

log = logging.getLogger(__name__)


def fit_to(t: torch.Tensor, T: int, Fr: int) -> torch.Tensor:
    """Crop or zero-pad (B, T', F') to (B, T, F)."""
    t = t[:, :T, :Fr]
    return F.pad(t, (0, Fr - t.shape[2], 0, T - t.shape[1]))


class Interpreter:
    """Base class: a frozen classifier and ``masks(X) -> (mask, interpretation)``."""

    def __init__(self, classifier: torch.nn.Module):
        self.classifier = classifier

    def masks(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def __call__(self, X: torch.Tensor, batch: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [self.masks(x) for x in X.split(batch)]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


class PIQInterpreter(Interpreter):
    def __init__(self, classifier, psi):
        super().__init__(classifier)
        self.psi = psi.eval()

    def masks(self, X):
        pred = self.classifier(X).argmax(1)
        xhat, _, _ = self.psi(self.classifier.representations(X), pred)
        mask = fit_to(torch.sigmoid(xhat.squeeze(1)), X.shape[1], X.shape[2])
        return mask, mask * X


class L2IInterpreter(Interpreter):
    def __init__(self, classifier, l2i: L2I, W: torch.Tensor, relevance_th: float):
        super().__init__(classifier)
        self.l2i, self.W, self.relevance_th = l2i.eval(), W, relevance_th

    def masks(self, X):
        pred = self.classifier(X).argmax(1)
        H = self.l2i.activations(self.classifier.representations(X))  # (B, K, T')
        pooled = self.l2i.theta.hard_att(H).squeeze(2)  # (B, K)
        weights = self.l2i.theta.classifier[0].weight[pred]  # (B, K)
        r = weights * pooled
        r = r / r.abs().amax(1, keepdim=True).clamp_min(1e-12)  # in [-1, 1]
        keep = (r > self.relevance_th).float().unsqueeze(2)
        interp = torch.einsum("fk,bkt->btf", self.W, H * keep)
        interp = fit_to(interp, X.shape[1], X.shape[2])
        return (interp / X.clamp_min(1e-6)).clamp(0, 1), interp


class AMTInterpreter(Interpreter):
    def __init__(self, classifier, quantile: float):
        super().__init__(classifier)
        self.quantile = quantile

    def saliency(self, X) -> torch.Tensor:
        """(B, h, w) activation map of the backbone."""
        backbone = self.classifier.embedding_model
        from xairepro.esc50.features import to_image

        if self.classifier.arch == "focalnet":
            store = {}
            proj = backbone.encoder.stages[-1].layers[-1].modulation.projection_context
            handle = proj.register_forward_hook(lambda m, i, o: store.setdefault("mod", o))
            try:
                backbone(pixel_values=to_image(X))
            finally:
                handle.remove()
            return store["mod"].norm(dim=1)  # modulator (B, C, h, w) -> (B, h, w)
        out = backbone(pixel_values=to_image(X), output_attentions=True)
        cls = out.attentions[-1][:, :, 0, 1:].mean(1)  # (B, patches)
        side = int(round(cls.shape[1] ** 0.5))
        return cls.reshape(-1, side, side)

    def masks(self, X):
        sal = F.interpolate(self.saliency(X).unsqueeze(1), size=X.shape[1:], mode="bilinear").squeeze(1)
        th = torch.quantile(sal.flatten(1), self.quantile, dim=1).view(-1, 1, 1)
        mask = (sal >= th).float()
        return mask, mask * X


def build_interpreter(method: str, classifier_path, model_path=None, nmf_path=None,
                      cfg: dict[str, Any] | None = None) -> Interpreter:
    """The interpreter of ``method`` (piq, l2i, amt) on a trained classifier."""
    cfg = cfg or {}
    clf = load_classifier(classifier_path)
    if method == "amt":
        return AMTInterpreter(clf, cfg["quantile"])
    record = load_torch(model_path)
    if method == "piq":
        psi = build_piq(record["arch"], record["emb_dim"], record["n_classes"], record["cfg"])
        psi.load_state_dict(record["state_dict"])
        return PIQInterpreter(clf, psi)
    l2i = L2I(record["arch"], record["emb_dim"], record["n_classes"], record["n_frames"], record["cfg"])
    l2i.load_state_dict(record["state_dict"])
    return L2IInterpreter(clf, l2i, nmf_dictionary(nmf_path), record["cfg"]["relevance_th"])


@torch.no_grad()
def score_masks(classifier, X: torch.Tensor, masks: torch.Tensor, batch: int = 16) -> dict[str, torch.Tensor]:
    """Per-clip fidelity-to-input and faithfulness, mask-in (M X) and mask-out ((1 - M) X)."""
    scores = torch.cat([classifier(x) for x in X.split(batch)])
    s_in = torch.cat([classifier(x * m) for x, m in zip(X.split(batch), masks.split(batch))])
    s_out = torch.cat([classifier(x * (1 - m)) for x, m in zip(X.split(batch), masks.split(batch))])
    return {
        "prediction": scores.argmax(1),
        "fidelity_to_input": fidelity_to_input(scores, s_in),
        "faithfulness_mask_in": faithfulness(scores, s_in),
        "fidelity_to_input_mask_out": fidelity_to_input(scores, s_out),
        "faithfulness_mask_out": faithfulness(scores, s_out),
    }


def planted_masks(data_root, names: list[str], sample_rate: int, shape: tuple[int, int]) -> torch.Tensor | None:
    """The (N, T, F) planted boxes of demo clips, or None where the data has none (paper)."""
    path = Path(data_root) / "meta" / "planted.csv"
    if not path.exists():
        return None
    boxes = read_planted(data_root)
    return torch.from_numpy(np.stack([
        planted_mask(*boxes.loc[n, ["t0", "t1", "f0", "f1"]], sample_rate, *shape) for n in names]))


def evaluate_interpreter(interpreter: Interpreter, data_root, folds: list[int], sample_rate: int,
                         method: str, arch: str) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Masks and interpretations of the test clips, and one metrics row per clip.

    The rows also hold, on demo data, the mean mask inside the planted box over the mean
    mask outside it (``planted_ratio``: > 1 when the interpreter finds the planted region)
    and the fidelity-to-input of the planted box used as the mask (``oracle_fidelity_to_input``).
    """
    X, _, y, names = load_features(data_root, folds, sample_rate)
    masks, interp = interpreter(X)
    metrics = score_masks(interpreter.classifier, X, masks)
    rows = pd.DataFrame({"method": method, "arch": arch, "filename": names, "target": y.numpy(),
                         **{k: v.numpy() for k, v in metrics.items()}})
    planted = planted_masks(data_root, names, sample_rate, X.shape[1:])
    if planted is not None:
        rows["planted_ratio"] = mask_mass_ratio(masks, planted.float(), (~planted).float()).numpy()
        # the planted box itself as the mask: the fidelity this classifier allows a perfect interpreter
        oracle = score_masks(interpreter.classifier, X, planted.float())
        rows["oracle_fidelity_to_input"] = oracle["fidelity_to_input"].numpy()
    arrays = {"X": X.numpy(), "masks": masks.numpy(), "interpretations": interp.numpy(),
              "targets": y.numpy(), "names": np.array(names)}
    return rows, arrays


def overlap_test(interpreter: Interpreter, data_root, folds: list[int], sample_rate: int, mix_weight: float = 0.8):
    """PIQ on mixtures mix_weight * s1 + (1 - mix_weight) * s2 of test clips of different classes.

    Pairs each test clip s1 with the next test clip s2 of another class. Returns one row per
    pair (mean mask in the planted box of s1, in that of s2 minus s1's, their ratio) and
    the arrays of the figure (sources, mixture, mask, interpretation).
    """
    from xairepro.esc50.data import load_split
    from xairepro.esc50.features import log_spectrogram

    waves, y, names = load_split(data_root, folds, sample_rate)
    partner = np.array([next(j for k in range(1, len(y)) if y[(j := (i + k) % len(y))] != y[i]) for i in range(len(y))])
    s1, s2 = torch.from_numpy(waves), torch.from_numpy(waves[partner])
    mix = mix_weight * s1 + (1 - mix_weight) * s2
    X_mix, _ = log_spectrogram(mix, sample_rate)
    masks, interp = interpreter(X_mix)
    shape = X_mix.shape[1:]
    p1 = planted_masks(data_root, names, sample_rate, shape)
    p2 = planted_masks(data_root, [names[j] for j in partner], sample_rate, shape)
    if p1 is None:  # paper data: no planted boxes, the figure only
        in1 = in2 = torch.full((len(names),), float("nan"))
    else:
        p2_only = p2 & ~p1
        in1 = (masks * p1).sum((1, 2)) / p1.sum((1, 2)).clamp_min(1)
        in2 = (masks * p2_only).sum((1, 2)) / p2_only.sum((1, 2)).clamp_min(1)
    pred = interpreter.classifier(X_mix).argmax(1)
    rows = pd.DataFrame({"source": names, "noise": [names[j] for j in partner], "target": y,
                         "prediction_mixture": pred.numpy(), "mask_in_source_region": in1.numpy(),
                         "mask_in_noise_region": in2.numpy(), "ratio": (in1 / in2.clamp_min(1e-12)).numpy()})
    X1, _ = log_spectrogram(s1, sample_rate)
    X2, _ = log_spectrogram(s2, sample_rate)
    arrays = {"source": X1.numpy(), "noise": X2.numpy(), "mixture": X_mix.numpy(), "masks": masks.numpy(),
              "interpretations": interp.numpy(), "names": np.array(names)}
    return rows, arrays
