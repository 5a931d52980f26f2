"""Tests written to kill the surviving mutants of xairepro.esc50.explain (issue 24).

Every interpreter runs on stubs whose outputs follow by hand (dyadic numbers, so the
expected masks are exact): a classifier scoring ``X.sum(1) @ w.T``, a PIQ decoder whose
logits are a known function of the representations and the class, an L2I model whose
activations are a slice of the input, FocalNet and ViT backbones whose modulator and
attention maps are fixed tensors scaled by the input. Each test names the behaviour it
pins: the crop and pad of :func:`fit_to`, which class is explained, the relevance
threshold (strictly above, normalised per clip), the ratio mask's clamp, AMT's bilinear
upsampling and its per-clip quantile (a tie at the threshold is kept).
"""

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from xairepro.esc50.explain import AMTInterpreter, Interpreter, L2IInterpreter, PIQInterpreter, fit_to
from xairepro.esc50.models import to_image


class Scores(torch.nn.Module):
    """Classifier stub: scores (B, C) = X.sum(1) @ w.T; representations (B, F, T) = X^T."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.weight = torch.nn.Parameter(weight)

    def forward(self, X):
        return X.sum(1) @ self.weight.T

    def representations(self, X):
        return X.transpose(1, 2)


def scores_of_classes(first: int, last: int) -> Scores:
    """Class 0 reads the first frequency bin, class 1 the last one (of 4)."""
    w = torch.zeros(2, 4)
    w[0, first], w[1, last] = 1.0, 1.0
    return Scores(w)


# --------------------------------------------------------------------------- fit_to
def test_fit_to_crops_frequencies_and_pads_frames_with_zeros_at_the_end():
    t = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) + 1
    got = fit_to(t, 5, 2)
    want = torch.zeros(2, 5, 2)
    want[:, :3] = t[:, :, :2]
    assert torch.equal(got, want)


def test_fit_to_crops_frames_and_pads_frequencies_with_zeros_at_the_end():
    t = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) + 1
    got = fit_to(t, 2, 6)
    want = torch.zeros(2, 2, 6)
    want[:, :, :4] = t[:, :2]
    assert torch.equal(got, want)


def test_fit_to_of_the_right_shape_is_the_identity():
    t = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) + 1
    assert torch.equal(fit_to(t, 3, 4), t)


# --------------------------------------------------------------------------- Interpreter
def test_target_is_the_prediction_per_clip_when_none_is_given():
    X = torch.tensor([[[1.0, 0, 0, 5]], [[4.0, 0, 0, 1]]])  # clip 0 -> class 1, clip 1 -> class 0
    interpreter = Interpreter(scores_of_classes(0, 3))
    assert torch.equal(interpreter._target(X, None), torch.tensor([1, 0]))
    given = torch.tensor([0, 0])
    assert interpreter._target(X, given) is given


def test_with_classifier_returns_a_copy_explaining_the_other_classifier():
    first, second = scores_of_classes(0, 3), scores_of_classes(1, 2)
    psi = torch.nn.Identity()
    interpreter = PIQInterpreter(first, psi)
    other = interpreter.with_classifier(second)
    assert type(other) is PIQInterpreter and other is not interpreter
    assert other.classifier is second and interpreter.classifier is first
    assert other.psi is psi and interpreter.psi is psi


def test_base_interpreter_has_no_attribution_of_its_own():
    with pytest.raises(NotImplementedError):
        Interpreter(scores_of_classes(0, 3)).attribute(torch.ones(1, 2, 4))


# --------------------------------------------------------------------------- PIQ
class Decoder(torch.nn.Module):
    """PIQ decoder stub: logits (B, 1, 3, 5) = mean(reps) + class + t / 4 - f / 8."""

    def forward(self, reps, pred):
        B = reps.shape[0]
        t = torch.arange(3, dtype=torch.float32).view(1, 3, 1)
        f = torch.arange(5, dtype=torch.float32).view(1, 1, 5)
        level = reps.mean((1, 2)).view(B, 1, 1) + pred.view(B, 1, 1).float()
        return (level + t / 4 - f / 8).unsqueeze(1), None, None


def piq_expected(X: torch.Tensor, classes) -> torch.Tensor:
    """The decoder's sigmoid for ``classes``, its 3 frames padded to X's 4, its 5 bins cropped to 3."""
    masks = torch.zeros_like(X)
    for b, c in enumerate(classes):
        for t in range(3):
            for f in range(3):
                masks[b, t, f] = torch.sigmoid(X[b].mean() + c + torch.tensor(t / 4 - f / 8))
    return masks


PIQ_X = torch.tensor([[[2.0, 0, 0], [0, 0, 0.5], [0, 1, 0], [1, 0, 0.5]],     # (2, T=4, F=3)
                      [[0.0, 0, 4], [0, 0, 0], [0, 2, 0], [0, 0, 0]]])


def piq_scores() -> Scores:
    """Class 0 reads the first bin, class 1 the last: clip 0 -> 0, clip 1 -> 1."""
    w = torch.zeros(2, 3)
    w[0, 0], w[1, 2] = 1.0, 1.0
    return Scores(w)


@pytest.mark.parametrize("batch", [16, 1], ids=["one-batch", "clip-by-clip"])
def test_piq_mask_is_the_decoders_sigmoid_fitted_to_the_input_for_the_prediction(batch):
    masks, interpretation = PIQInterpreter(piq_scores(), Decoder()).attribute(PIQ_X, batch=batch)
    want = piq_expected(PIQ_X, [0, 1])
    assert masks.shape == PIQ_X.shape
    torch.testing.assert_close(masks, want, rtol=0, atol=1e-6)
    assert masks[:, 3].eq(0).all()  # the decoder's missing last frame is zero
    torch.testing.assert_close(interpretation, want * PIQ_X, rtol=0, atol=1e-6)


def test_piq_explains_the_given_class_not_the_prediction():
    masks, interpretation = PIQInterpreter(piq_scores(), Decoder()).attribute(PIQ_X, target=torch.tensor([1, 0]))
    want = piq_expected(PIQ_X, [1, 0])
    torch.testing.assert_close(masks, want, rtol=0, atol=1e-6)
    torch.testing.assert_close(interpretation, want * PIQ_X, rtol=0, atol=1e-6)


# --------------------------------------------------------------------------- L2I
class Theta(torch.nn.Module):
    """L2I's theta stub: hard attention = max over time; one linear layer (C, K)."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.classifier = torch.nn.Sequential(torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False))
        self.classifier[0].weight.data = weight

    def hard_att(self, H):
        return H.amax(2, keepdim=True)  # (B, K, 1)


class L2IStub(torch.nn.Module):
    """Activations H (B, K, T - 1): the first K bins of the first T - 1 frames."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.K = weight.shape[1]
        self.theta = Theta(weight)

    def activations(self, reps):  # reps (B, F, T)
        return reps[:, :self.K, :-1]


# H[b, k, t] = X[b, t, k] (k < 3, t < 2); pooled = max over t: clip 0 (2, 1, 1), clip 1 (1, 1, 2)
L2I_X = torch.tensor([[[2.0, 1, 0.5, 0.5], [1, 0.5, 1, 0.25], [3, 3, 3, 3]],
                      [[1.0, 0.5, 2, 4], [0.5, 1, 1, 0], [0.25, 0.25, 0.25, 0.25]]])
# r = theta_c * pooled: clip 0, class 0: (1, 0.5, -0.25), max 1; clip 1, class 1: (0.125, -0.25, 0.25) / 0.25
THETA = torch.tensor([[0.5, 0.5, -0.25], [0.125, -0.25, 0.125]])
# the dictionary (F = 5 bins, cropped to the input's 4; K = 3)
W = torch.tensor([[0.25, 1, 0.5], [-0.5, 1, 0.25], [1, 1, -1], [0.125, 1, 2], [9, 9, 9]])


def l2i(relevance_th=0.5) -> L2IInterpreter:
    return L2IInterpreter(scores_of_classes(0, 3), L2IStub(THETA.clone()), W, relevance_th)


# clip 0 keeps component 0 (r = 0.5 is not above 0.5): interp t = X[0, t, 0] * W[:4, 0]
L2I_INTERP_0 = torch.tensor([[0.5, -1, 2, 0.25], [0.25, -0.5, 1, 0.125], [0, 0, 0, 0]])
# clip 1 keeps component 2 (normalised r = (0.5, -1, 1)): interp t = X[1, t, 2] * W[:4, 2]
L2I_INTERP_1 = torch.tensor([[1.0, 0.5, -2, 4], [0.5, 0.25, -1, 2], [0, 0, 0, 0]])
# interp / X clamped to [0, 1]; X = 0 counts as 1e-6
L2I_MASK_0 = torch.tensor([[0.25, 0, 1, 0.5], [0.25, 0, 1, 0.5], [0, 0, 0, 0]])
L2I_MASK_1 = torch.tensor([[1.0, 1, 0, 1], [1, 0.25, 0, 1], [0, 0, 0, 0]])


@pytest.mark.parametrize("target", [None, torch.tensor([0, 1])], ids=["prediction", "given"])
def test_l2i_keeps_components_strictly_above_the_threshold_of_the_clips_own_maximum(target):
    masks, interpretation = l2i().attribute(L2I_X, target=target)
    assert torch.equal(interpretation, torch.stack([L2I_INTERP_0, L2I_INTERP_1]))
    assert torch.equal(masks, torch.stack([L2I_MASK_0, L2I_MASK_1]))


def test_l2i_explains_the_given_class_for_every_clip():
    # class 0 for clip 1: r = (0.5, 0.5, -0.5) / 0.5 = (1, 1, -1): components 0 and 1 kept
    masks, interpretation = l2i().attribute(L2I_X, target=0)
    assert torch.equal(interpretation[0], L2I_INTERP_0) and torch.equal(masks[0], L2I_MASK_0)
    # interp t = X[1, t, 0] * W[:4, 0] + X[1, t, 1] * W[:4, 1]
    assert torch.equal(interpretation[1], torch.tensor([[0.75, 0, 1.5, 0.625], [1.125, 0.75, 1.5, 1.0625],
                                                        [0, 0, 0, 0]]))
    assert torch.equal(masks[1], torch.tensor([[0.75, 0, 0.75, 0.15625], [1, 0.75, 1, 1], [0, 0, 0, 0]]))


def test_l2i_clip_by_clip_equals_the_batch():
    masks, interpretation = l2i().attribute(L2I_X, batch=1)
    assert torch.equal(interpretation, torch.stack([L2I_INTERP_0, L2I_INTERP_1]))
    assert torch.equal(masks, torch.stack([L2I_MASK_0, L2I_MASK_1]))


def test_l2i_threshold_below_every_relevance_keeps_every_component():
    masks, interpretation = l2i(relevance_th=-2.0).attribute(L2I_X, target=torch.tensor([0, 1]))
    H = L2I_X.transpose(1, 2)[:, :3, :2]
    want = torch.zeros(2, 3, 4)
    want[:, :2] = torch.einsum("fk,bkt->btf", W[:4], H)
    assert torch.equal(interpretation, want)


def test_l2i_with_one_component_keeps_it_per_clip():
    # K = 1: pooled (B, 1); clip 0's relevance is positive, clip 1's negative
    theta = torch.tensor([[1.0], [-1.0]])
    interpreter = L2IInterpreter(scores_of_classes(0, 3), L2IStub(theta), W[:, :1], 0.0)
    masks, interpretation = interpreter.attribute(L2I_X, target=torch.tensor([0, 1]))
    assert torch.equal(interpretation[0, :2], L2I_X[0, :2, :1] * W[:4, 0])
    assert interpretation[0, 2].eq(0).all() and interpretation[1].eq(0).all()
    assert masks.shape == L2I_X.shape


# --------------------------------------------------------------------------- AMT
class Projection(torch.nn.Module):
    """A modulator's projection_context stub: multiplies by ``scale``."""

    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return x * self.scale


class FocalLayer(torch.nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.modulation = torch.nn.Module()
        self.modulation.projection_context = Projection(scale)


class FocalStub(torch.nn.Module):
    """FocalNet stub: 3 stages of 3 layers, each multiplying the pooled image (B, 3, 4, 4)."""

    SCALES = [[1.0, 2.0, 3.0], [5.0, 7.0, 11.0], [13.0, 17.0, 19.0]]

    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Module()
        self.encoder.stages = torch.nn.ModuleList()
        for scales in self.SCALES:
            stage = torch.nn.Module()
            stage.layers = torch.nn.ModuleList(FocalLayer(s) for s in scales)
            self.encoder.stages.append(stage)

    def forward(self, pixel_values):
        x = F.avg_pool2d(pixel_values, 56)
        for stage in self.encoder.stages:
            for layer in stage.layers:
                x = layer.modulation.projection_context(x) + 1.0
        return x


class ViTStub(torch.nn.Module):
    """ViT stub: 3 layers of attention (B, 2 heads, 1 + 16 tokens, 17) scaled by the image's
    mean; no attentions unless ``output_attentions`` (as Hugging Face's models)."""

    def __init__(self):
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.att = torch.rand(3, 1, 2, 17, 17, generator=gen)

    def forward(self, pixel_values, output_attentions=False):
        level = pixel_values.mean((1, 2, 3)).view(-1, 1, 1, 1)
        return SimpleNamespace(attentions=tuple(a * level for a in self.att) if output_attentions is True else None)


class Backbone(torch.nn.Module):
    """AMT's classifier stub: ``arch`` and ``embedding_model``."""

    def __init__(self, arch: str, model: torch.nn.Module):
        super().__init__()
        self.arch, self.embedding_model = arch, model
        self.dummy = torch.nn.Parameter(torch.zeros(1))


AMT_X = torch.stack([torch.full((8, 6), 2.0), torch.full((8, 6), 0.5)])  # two clips, constant levels


def test_amt_focalnet_saliency_is_the_channel_norm_of_the_last_layers_modulator():
    sal = AMTInterpreter(Backbone("focalnet", FocalStub()), 0.9)._saliency(AMT_X)
    x = F.avg_pool2d(to_image(AMT_X), 56)
    for scales in FocalStub.SCALES:
        for s in scales:
            x = x * s + 1.0
    want = (x - 1.0).norm(dim=1)  # the hook sees the projection's output, before the + 1
    assert sal.shape == (2, 4, 4)
    torch.testing.assert_close(sal, want)


def test_amt_vit_saliency_is_the_last_layers_cls_attention_mean_over_heads():
    vit = ViTStub()
    sal = AMTInterpreter(Backbone("vit", vit), 0.9)._saliency(AMT_X)
    level = to_image(AMT_X).mean((1, 2, 3)).view(2, 1)
    want = (vit.att[-1][0, :, 0, 1:].mean(0) * level).reshape(2, 4, 4)
    assert sal.shape == (2, 4, 4)
    torch.testing.assert_close(sal, want)


class FixedSaliency(AMTInterpreter):
    """AMT with the backbone's map replaced by a given (B, 2, 3) one."""

    def __init__(self, maps: torch.Tensor, quantile: float):
        super().__init__(Backbone("vit", ViTStub()), quantile)
        self.maps = maps

    def _saliency(self, X):
        return self.maps[: len(X)].to(X.dtype)


# map a_i + b_j with a = (0, 8), b = (0, 4, 16); bilinear (align_corners=False) to (4, 6):
# rows (0, 2, 6, 8), columns (0, 1, 3, 7, 13, 16)
MAP = torch.tensor([[0.0, 4, 16], [8, 12, 24]])
UPSAMPLED = torch.tensor([[0.0, 2, 6, 8]]).T + torch.tensor([[0.0, 1, 3, 7, 13, 16]])


def test_amt_upsamples_bilinearly_and_keeps_the_tie_at_the_median():
    # median of the 24 upsampled values: 9, which three bins equal; 14 bins are >= 9
    X = torch.arange(1, 25, dtype=torch.float32).reshape(1, 4, 6)
    masks, interpretation = FixedSaliency(MAP.unsqueeze(0), 0.5).attribute(X)
    assert masks.shape == (1, 4, 6)
    assert torch.equal(masks[0], (UPSAMPLED >= 9).float()) and int(masks.sum()) == 14
    assert torch.equal(interpretation, masks * X)


def test_amt_thresholds_each_clip_at_its_own_quantile():
    # a second clip 10 times louder plus 100: the same mask, not a batch-wide threshold
    maps = torch.stack([MAP, 10 * MAP + 100])
    X = torch.ones(2, 4, 6)
    X[1] = 3.0
    masks, interpretation = FixedSaliency(maps, 0.5).attribute(X)
    want = (UPSAMPLED >= 9).float()
    assert torch.equal(masks, torch.stack([want, want]))
    assert torch.equal(interpretation, torch.stack([want, 3 * want]))


def test_amt_quantile_is_the_constructor_argument():
    X = torch.ones(1, 4, 6)
    top = FixedSaliency(MAP.unsqueeze(0), 0.95).attribute(X)[0]
    # 0.95 * 23 = 21.85: between 21 and 22, so only 22 and 24 stay
    assert torch.equal(top[0], (UPSAMPLED >= 22).float()) and int(top.sum()) == 2


# --------------------------------------------------------------------------- attribute, classify, score_masks
class ClassEcho(Interpreter):
    """An interpreter whose mask is the explained class everywhere: shows which class each clip got."""

    def _attribute(self, X, target):
        pred = self._target(X, target).view(-1, 1, 1).float()
        return pred.expand_as(X).clone(), X + pred


@pytest.mark.parametrize("batch", [16, 2, 1], ids=["one-batch", "pairs", "clip-by-clip"])
def test_attribute_pairs_each_clip_with_its_own_target_across_batches(batch):
    X = torch.zeros(5, 2, 4)
    X[:, :, 3] = torch.arange(5, dtype=torch.float32).view(5, 1)  # clip i: class 1 scores 2 i, class 0 scores 0
    interpreter = ClassEcho(scores_of_classes(0, 3))
    masks, interpretation = interpreter.attribute(X, target=torch.tensor([0, 1, 0, 1, 1]), batch=batch)
    assert masks[:, 0, 0].tolist() == [0, 1, 0, 1, 1] and torch.equal(interpretation, X + masks)
    assert interpreter.attribute(X, target=1, batch=batch)[0][:, 0, 0].tolist() == [1] * 5
    # no target: the prediction, class 0 for the silent first clip (a tie goes to the first class)
    assert interpreter.attribute(X, batch=batch)[0][:, 0, 0].tolist() == [0, 1, 1, 1, 1]


def test_classify_scores_masked_clips_in_batches():
    X = torch.arange(24, dtype=torch.float32).reshape(3, 2, 4)
    clf = scores_of_classes(0, 3)
    masks = torch.zeros(3, 2, 4)
    masks[0, :, 0], masks[1, :, 3], masks[2] = 1.0, 1.0, 0.5
    from xairepro.esc50.explain import classify

    want_plain = torch.stack([X.sum(1)[:, 0], X.sum(1)[:, 3]], 1)
    want_masked = torch.stack([(X * masks).sum(1)[:, 0], (X * masks).sum(1)[:, 3]], 1)
    for batch in (16, 2, 1):
        assert torch.equal(classify(clf, X, batch=batch), want_plain)
        assert torch.equal(classify(clf, X, masks, batch=batch), want_masked)
    assert torch.equal(classify(clf, X, masks), want_masked)


def test_score_masks_of_three_clips_in_pairs_keep_each_clips_own_mask():
    from xairepro.esc50.explain import score_masks

    # clip i has evidence 2 for class 0 (bin 0) and 1 for class 1 (bin 3): prediction 0 for all
    X = torch.zeros(3, 1, 4)
    X[:, 0, 0], X[:, 0, 3] = 2.0, 1.0
    masks = torch.zeros(3, 1, 4)
    masks[0, 0, 0] = 1.0  # keeps class 0's evidence: kept in, lost out
    masks[1, 0, 3] = 1.0  # keeps class 1's only: lost in, kept out
    masks[2] = 1.0  # keeps everything: kept in, lost out (nothing left: a tie, class 0 wins) -> kept
    scored = score_masks(scores_of_classes(0, 3), X, masks, batch=2)
    assert list(scored) == ["prediction", "fidelity_to_input", "faithfulness_mask_in",
                            "fidelity_to_input_mask_out", "faithfulness_mask_out"]
    assert scored["prediction"].tolist() == [0, 0, 0]
    assert scored["fidelity_to_input"].tolist() == [1.0, 0.0, 1.0]
    assert scored["fidelity_to_input_mask_out"].tolist() == [0.0, 1.0, 1.0]
    p = torch.tensor([2.0, 1.0]).softmax(0)[0]
    torch.testing.assert_close(scored["faithfulness_mask_in"],
                               torch.stack([p - torch.tensor([2.0, 0]).softmax(0)[0],
                                            p - torch.tensor([0.0, 1]).softmax(0)[0], p - p]))
    torch.testing.assert_close(scored["faithfulness_mask_out"],
                               torch.stack([p - torch.tensor([0.0, 1]).softmax(0)[0],
                                            p - torch.tensor([2.0, 0]).softmax(0)[0], p - 0.5]))
