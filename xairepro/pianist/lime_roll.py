"""LIME on one piano roll with the ``lime`` package, as the original's ``create_lime_plots.py``.

``LimeImageExplainer(kernel_width, random_state)``; ``explain_instance(roll, ...,
top_labels, hide_color, num_samples, batch_size, distance_metric)`` with the default
quickshift segmentation; the mask is ``get_image_and_mask(top label, positive_only=True,
hide_rest=True, num_features)``. LIME sees the roll as a grey image ``(88, T)``; the
classifier function takes its first channel back, batch by batch.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import numpy as np
import torch
from torch import nn


def classifier_fn(model: nn.Module):
    """``images (B, 88, T, 3) -> softmax (B, n_classes)`` for LIME."""

    device = next(model.parameters(), torch.empty(0)).device

    @torch.no_grad()
    def predict(images: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(np.ascontiguousarray(images[..., 0]), dtype=torch.float32).unsqueeze(1)
        return torch.softmax(model(x.to(device)), dim=1).cpu().numpy()

    return predict


def explain_roll(model: nn.Module, roll: np.ndarray, *, num_samples: int, num_features: int, top_labels: int,
                 batch_size: int, kernel_width: float, hide_color: float, distance_metric: str,
                 random_state: int) -> dict[str, Any]:
    """Top positive superpixels of the top predicted class of one normalised roll ``(88, T)``.

    Returns ``mask`` (88, T) bool, ``label`` (top class) and ``probability`` (its softmax).
    """
    from lime import lime_image

    model.eval()
    explainer = lime_image.LimeImageExplainer(kernel_width=kernel_width, random_state=random_state)
    predict = classifier_fn(model)
    n_classes = predict(np.repeat(roll[None, ..., None], 3, axis=-1)).shape[1]
    # lime 0.2.0.1 draws a tqdm bar per explanation on stderr; the step logs its own progress
    with mock.patch.object(lime_image, "tqdm", lambda iterable, *args, **kwargs: iterable):
        explanation = explainer.explain_instance(
            roll.astype(np.float64), predict, top_labels=min(top_labels, n_classes), hide_color=hide_color,
            num_samples=num_samples, batch_size=batch_size, distance_metric=distance_metric, random_seed=random_state,
        )
    label = int(explanation.top_labels[0])
    _, mask = explanation.get_image_and_mask(label, positive_only=True, hide_rest=True, num_features=num_features)
    probability = float(predict(np.repeat(roll[None, ..., None], 3, axis=-1))[0, label])
    return {"mask": mask.astype(bool), "label": label, "probability": probability}
