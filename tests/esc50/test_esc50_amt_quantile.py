"""AMT's threshold and the mask-in / mask-out scores on hand-made inputs: a quantile per clip,
not per batch, and the mask-out scores computed on (1 - M) X, not on M X."""

import torch

from xairepro.esc50.explain import AMTInterpreter, score_masks


class FixedSaliency(AMTInterpreter):
    """AMT with the backbone's activation map replaced by a given one (the map is the input)."""

    def _saliency(self, X):
        return X


class Linear(torch.nn.Module):
    """Class scores w_c . vec(X): the masked scores follow by hand."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.weight = torch.nn.Parameter(weight)

    def forward(self, x):
        return x.flatten(1) @ self.weight.T


def test_each_clip_is_thresholded_at_its_own_quantile():
    # a quiet clip and a loud one (100 times louder) in one batch: each keeps its own top 10 %
    ramp = torch.arange(100, dtype=torch.float32).reshape(10, 10)
    X = torch.stack([ramp, 100 * ramp + 1000])
    masks, interpretation = FixedSaliency(Linear(torch.zeros(2, 100)), 0.9).attribute(X, batch=16)
    assert masks.flatten(1).sum(1).tolist() == [10.0, 10.0]  # a batch quantile would give 0 and 100
    torch.testing.assert_close(masks[0], masks[1])
    assert masks[0].flatten()[90:].eq(1).all() and masks[0].flatten()[:90].eq(0).all()
    torch.testing.assert_close(interpretation, masks * X)


def test_mask_out_scores_use_the_complement_of_the_mask():
    # class 0 reads the top half of the clip, class 1 the bottom half
    w = torch.zeros(2, 4, 4)
    w[0, :2], w[1, 2:] = 1.0, 1.0
    clf = Linear(w.flatten(1))
    X = torch.ones(1, 4, 4)
    X[0, :2] = 2.0  # class 0 wins on the full input (16 vs 8)
    mask = torch.zeros(1, 4, 4)
    mask[0, :2] = 1.0  # keeps class 0's evidence
    scored = score_masks(clf, X, mask)
    assert scored["prediction"].tolist() == [0]
    # mask in: scores (16, 0) -> prediction kept; mask out: scores (0, 8) -> prediction lost
    assert scored["fidelity_to_input"].tolist() == [1.0] and scored["fidelity_to_input_mask_out"].tolist() == [0.0]
    full = first_softmax(16.0, 8.0)
    torch.testing.assert_close(scored["faithfulness_mask_in"], (full - first_softmax(16.0, 0.0)).view(1))
    torch.testing.assert_close(scored["faithfulness_mask_out"], (full - first_softmax(0.0, 8.0)).view(1))


def first_softmax(a: float, b: float) -> torch.Tensor:
    """softmax((a, b))_0: the predicted class 0's probability."""
    return torch.tensor([a, b]).softmax(0)[0]
