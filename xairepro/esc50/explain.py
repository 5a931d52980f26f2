"""The interpreters (PIQ, L2I, AMT), one class per method, in captum's pattern.

Each is constructed with the frozen classifier, its own trained model(s) and its method
flags, and has one public method, ``attribute(inputs, target=None, batch=16)``: for log1p
magnitudes ``inputs`` (N, T, F) it returns the estimated mask M (N, T, F) in [0, 1] and the
interpretation (N, T, F) in the log1p-magnitude domain. ``target`` is the class explained
(an int or one per clip); None explains the classifier's prediction, as the recipes do.
As in SpeechBrain's interpret recipe, they share one base class and override one step,
``_attribute`` on one batch, run on the classifier's device (each batch of ``inputs`` goes
there and its results come back to the CPU: a GPU job explains on the GPU):

- PIQ: M = sigmoid of the decoder's output (417 frames; the last 14 frames are 0, the
  recipe crops them), interpretation = M * X.
- L2I: relevance r_k = theta_{c,k} * (attention-pooled H)_k, normalised by its maximum;
  components with r_k / max_k |r_k| > relevance_th are kept; interpretation = W H_kept; M = clamp(
  interpretation / X, 0, 1) (the ratio mask the metrics need).
- AMT: FocalNet: L2 norm over channels of the last stage's modulator; ViT: last layer
  CLS-to-patch attention averaged over heads; upsampled to (T, F) and thresholded at the
  ``quantile`` (0.90: the top 10 %); interpretation = M * X. The map is the same for every
  class, so ``target`` is not used.

:func:`score_masks` scores a mask by fidelity-to-input and faithfulness.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from xairepro.esc50.models import L2I, to_image
from xairepro.metrics.interpretation import faithfulness, fidelity_to_input


def fit_to(t: torch.Tensor, T: int, Fr: int) -> torch.Tensor:
    """Crop or zero-pad (B, T', F') to (B, T, F)."""
    t = t[:, :T, :Fr]
    return F.pad(t, (0, Fr - t.shape[2], 0, T - t.shape[1]))


class Interpreter:
    """Base class: a frozen classifier; subclasses override ``_attribute(X, target)`` on one batch."""

    def __init__(self, classifier: torch.nn.Module):
        self.classifier = classifier

    @property
    def device(self) -> torch.device:
        """Where the classifier (and the interpreter's own models with it) runs."""
        return next(self.classifier.parameters()).device

    def _attribute(self, X: torch.Tensor, target: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def with_classifier(self, classifier: torch.nn.Module) -> "Interpreter":
        """The same interpreter (its own trained models unchanged) explaining ``classifier``:
        with a randomised copy of the classifier, the model-parameter randomisation test's
        explanation."""
        other = copy.copy(self)
        other.classifier = classifier
        return other

    def _target(self, X: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
        """The classes explained: ``target``, or the classifier's prediction where it is None."""
        return self.classifier(X).argmax(1) if target is None else target

    @torch.no_grad()
    def attribute(self, inputs: torch.Tensor, target: int | torch.Tensor | None = None,
                  batch: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
        """Mask and interpretation (both (N, T, F), on the CPU) of ``inputs`` (N, T, F) for
        ``target``, ``batch`` clips at a time on the classifier's device."""
        device = self.device
        chunks = inputs.split(batch)
        if target is None:
            targets = [None] * len(chunks)
        else:
            targets = torch.as_tensor(target, device=device).expand(len(inputs)).split(batch)
        parts = [tuple(r.cpu() for r in self._attribute(x.to(device), t)) for x, t in zip(chunks, targets)]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


class PIQInterpreter(Interpreter):
    """Posthoc Interpretation via Quantization: the VQ decoder ``psi`` of the classifier's representations."""

    def __init__(self, classifier, psi):
        super().__init__(classifier)
        self.psi = psi.eval()

    def _attribute(self, X, target):
        pred = self._target(X, target)
        xhat, _, _ = self.psi(self.classifier.representations(X), pred)
        mask = fit_to(torch.sigmoid(xhat.squeeze(1)), X.shape[1], X.shape[2])
        return mask, mask * X


class L2IInterpreter(Interpreter):
    """Listen to Interpret: the NMF components (dictionary ``W``) relevant to the class."""

    def __init__(self, classifier, l2i: L2I, W: torch.Tensor, relevance_th: float):
        super().__init__(classifier)
        self.l2i, self.W, self.relevance_th = l2i.eval(), W, relevance_th

    def _attribute(self, X, target):
        pred = self._target(X, target)
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
    """Activation Map Thresholding of a FocalNet or ViT classifier at ``quantile``."""

    def __init__(self, classifier, quantile: float):
        super().__init__(classifier)
        self.quantile = quantile

    def _saliency(self, X) -> torch.Tensor:
        """(B, h, w) activation map of the backbone."""
        backbone = self.classifier.embedding_model
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

    def _attribute(self, X, target):
        sal = F.interpolate(self._saliency(X).unsqueeze(1), size=X.shape[1:], mode="bilinear").squeeze(1)
        th = torch.quantile(sal.flatten(1), self.quantile, dim=1).view(-1, 1, 1)
        mask = (sal >= th).float()
        return mask, mask * X


@torch.no_grad()
def classify(classifier, X: torch.Tensor, masks: torch.Tensor | None = None, batch: int = 16) -> torch.Tensor:
    """Scores (N, C), on the CPU, of X (N, T, F) (times ``masks`` where given), ``batch``
    clips at a time on the classifier's device."""
    device = next(classifier.parameters()).device
    chunks = X.split(batch) if masks is None else [x * m for x, m in zip(X.split(batch), masks.split(batch))]
    return torch.cat([classifier(x.to(device)).cpu() for x in chunks])


@torch.no_grad()
def score_masks(classifier, X: torch.Tensor, masks: torch.Tensor, batch: int = 16) -> dict[str, torch.Tensor]:
    """Per-clip fidelity-to-input and faithfulness, mask-in (M X) and mask-out ((1 - M) X),
    computed on the classifier's device; the returned tensors are on the CPU."""
    scores = classify(classifier, X, batch=batch)
    s_in = classify(classifier, X, masks, batch)
    s_out = classify(classifier, X, 1 - masks, batch)
    return {
        "prediction": scores.argmax(1),
        "fidelity_to_input": fidelity_to_input(scores, s_in),
        "faithfulness_mask_in": faithfulness(scores, s_in),
        "fidelity_to_input_mask_out": fidelity_to_input(scores, s_out),
        "faithfulness_mask_out": faithfulness(scores, s_out),
    }
