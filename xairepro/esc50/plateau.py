"""The interpret recipes' learning-rate schedule: halve on a validation plateau.

The PIQ and L2I recipes (``lr_annealing`` in piq*.yaml and l2i_*.yaml) anneal Adam's rate
with SpeechBrain's ``ReduceLROnPlateau`` on minus the validation fidelity, once per epoch.
Its rule, restated: up to epoch ``dont_halve_until_epoch`` the rate stays and each epoch's
loss becomes the anchor; later, a loss at or below the anchor becomes the new anchor and
clears the patience counter, a loss above it counts towards ``patience``, and once the
counter has reached ``patience`` the next worse loss multiplies the rate by ``factor``
(never below ``lr_min``) and clears the counter.

:func:`xairepro.common.training.train_epochs` steps a scheduler with no argument after each
epoch and checkpoints its ``state_dict``, so the epoch's loss is handed over first with
:meth:`PlateauHalving.observe`.
"""

from __future__ import annotations

from typing import Any

import torch


class PlateauHalving:
    """SpeechBrain's ``ReduceLROnPlateau`` rule on one optimiser, resumable.

    Parameters
    ----------
    optimizer
        Every parameter group's rate is set to the new one (the recipes have one group).
    factor, patience, dont_halve_until_epoch
        The recipe's ``lr_annealing`` arguments; epochs count from 1 as in ``Brain.fit``.
    lr_min
        SpeechBrain's default floor.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, *, factor: float, patience: int,
                 dont_halve_until_epoch: int, lr_min: float = 1e-8):
        self.optimizer = optimizer
        self.factor, self.patience, self.lr_min = factor, patience, lr_min
        self.dont_halve_until_epoch = dont_halve_until_epoch
        self.anchor = 99999.0
        self.patience_counter = 0
        self._pending: tuple[int, float] | None = None

    def needs(self, epoch: int, epochs: int) -> bool:
        """Whether the loss of ``epoch`` (1-based) of ``epochs`` can change a later rate:
        the last anchor of the waiting period and every epoch after it but the last."""
        return self.dont_halve_until_epoch <= epoch < epochs

    def observe(self, epoch: int, loss: float) -> None:
        """The validation loss of ``epoch`` (1-based), applied by the next :meth:`step`."""
        self._pending = (epoch, float(loss))

    def step(self) -> None:
        """Apply the rule to the observed loss (nothing when none was observed)."""
        if self._pending is None:
            return
        epoch, loss = self._pending
        self._pending = None
        lr = self.optimizer.param_groups[0]["lr"]
        if epoch <= self.dont_halve_until_epoch:
            self.anchor = loss
        elif loss <= self.anchor:
            self.anchor, self.patience_counter = loss, 0
        elif self.patience_counter < self.patience:
            self.patience_counter += 1
        else:
            lr, self.patience_counter = lr * self.factor, 0
        for group in self.optimizer.param_groups:
            group["lr"] = max(lr, self.lr_min)

    def state_dict(self) -> dict[str, Any]:
        return {"anchor": self.anchor, "patience_counter": self.patience_counter}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.anchor, self.patience_counter = float(state["anchor"]), int(state["patience_counter"])
