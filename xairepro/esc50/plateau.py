"""The interpret recipes' learning-rate schedule: halve on a validation plateau.

The PIQ and L2I recipes (``lr_annealing`` in piq*.yaml and l2i_*.yaml) anneal Adam's rate
with SpeechBrain's ``ReduceLROnPlateau`` on minus the validation fidelity, once per epoch.
:class:`PlateauHalving` runs that scheduler itself and only adapts it to the project's loop:
up to epoch ``dont_halve_until_epoch`` the rate stays and each epoch's loss becomes the
anchor; later, ``patience`` worse losses in a row are tolerated and the next one multiplies
the rate by ``factor`` (never below ``lr_min``).

:func:`xairepro.common.training.train_epochs` steps a scheduler with no argument after each
epoch and checkpoints its ``state_dict``, so the epoch's loss is handed over first with
:meth:`PlateauHalving.observe`.
"""

from __future__ import annotations

from typing import Any

import torch
from speechbrain.nnet.schedulers import ReduceLROnPlateau


class PlateauHalving:
    """SpeechBrain's ``ReduceLROnPlateau`` on one optimiser, stepped by the project's loop and
    resumable from a ``state_dict``.

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
        self.dont_halve_until_epoch = dont_halve_until_epoch
        self.rule = ReduceLROnPlateau(lr_min=lr_min, factor=factor, patience=patience,
                                      dont_halve_until_epoch=dont_halve_until_epoch)
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
        _, lr = self.rule([self.optimizer], epoch, loss)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def state_dict(self) -> dict[str, Any]:
        return {"anchor": float(self.rule.anchor), "patience_counter": int(self.rule.patience_counter)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rule.anchor, self.rule.patience_counter = float(state["anchor"]), int(state["patience_counter"])
