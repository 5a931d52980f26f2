"""The training steps: SpeechBrain Brain subclasses and the demo's threshold augmentation."""

import speechbrain as sb
import torch

from xairepro.esc50.models import aam_loss
from xairepro.esc50.train import ClassifierBrain, EpochBrain, NMFBrain, threshold_augment


def test_threshold_augment_zeroes_only_bins_below_a_fraction_of_the_peak():
    torch.manual_seed(0)
    X = torch.rand(64, 20, 30) * 3
    assert torch.equal(threshold_augment(X, 0.0), X)
    out = threshold_augment(X, 1.0, max_level=0.5)
    zeroed = (out == 0) & (X != 0)
    assert zeroed.any() and torch.equal(out[~zeroed], X[~zeroed])
    peak = X.amax((1, 2), keepdim=True)
    assert (X[zeroed] < 0.5 * peak.expand_as(X)[zeroed]).all()  # only bins below half the peak go
    assert (out.amax((1, 2)) == peak.flatten()).all()  # the peak always stays
    half = threshold_augment(X, 0.5)
    changed = (half != X).flatten(1).any(1).float().mean()
    assert 0.25 < changed < 0.75


def test_brain_epoch_is_adam_with_the_recipes_gradient_clipping():
    """One EpochBrain step equals a hand-written Adam step after clipping the gradient norm to 5."""
    torch.manual_seed(0)
    X, y = torch.randn(8, 3) * 100, torch.randn(8, 2) * 100  # large: the clipping matters

    class Regression(EpochBrain):
        def compute_forward(self, batch, stage):
            return self.modules.lin(batch[0])

        def compute_objectives(self, out, batch, stage):
            return ((out - batch[1]) ** 2).mean()

    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    brain = Regression({"lin": a}, {}, lr=0.1)
    loss = brain.train_epoch([(X, y)])
    opt = torch.optim.Adam(b.parameters(), lr=0.1)
    ref = ((b(X) - y) ** 2).mean()
    ref.backward()
    torch.nn.utils.clip_grad_norm_(list(b.parameters()), 5.0)
    opt.step()
    assert loss == float(ref.detach())
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)
    assert brain.step == 1 and isinstance(brain, sb.Brain)


def test_classifier_brain_augments_only_in_training():
    seen = []

    class Probe(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def forward(self, X):
            seen.append(X.clone())
            return torch.nn.functional.normalize(torch.stack([X.mean((1, 2)), X.amax((1, 2))], 1) * self.w, dim=1)

    brain = ClassifierBrain({"model": Probe()}, {"loss": aam_loss(), "mask_augment": 1.0}, lr=0.01)
    X = torch.rand(4, 5, 6) + 0.01
    brain.compute_forward((X, torch.zeros(4, dtype=torch.long)), sb.Stage.TRAIN)
    brain.compute_forward((X, torch.zeros(4, dtype=torch.long)), sb.Stage.TEST)
    assert (seen[0] == 0).any() and torch.equal(seen[1], X)


def test_nmf_brain_learns_a_nonnegative_dictionary():
    from speechbrain.lobes.models.L2I import NMFDecoderAudio, NMFEncoder

    torch.manual_seed(0)
    W = torch.rand(16, 3)
    X = torch.einsum("fk,bkt->bft", W, torch.rand(12, 3, 10))
    brain = NMFBrain({"encoder": NMFEncoder(16, 3), "decoder": NMFDecoderAudio(3, 16, device="cpu")}, {}, lr=0.05)
    losses = [brain.train_epoch([(X[i:i + 4],) for i in range(0, 12, 4)]) for _ in range(40)]
    assert losses[-1] < 0.2 * losses[0]

