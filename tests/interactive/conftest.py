"""Fixtures shared by the interactive tests: FairFace's network and a weights file of it."""

import pytest
import torch
import torchvision

from xairepro.interactive.models import FAIRFACE_FILE


@pytest.fixture(scope="module")
def original():
    """FairFace's network as FairFace and the original build it: torchvision's ResNet-34, fc 512 -> 18."""
    torch.manual_seed(0)
    net = torchvision.models.resnet34()
    net.fc = torch.nn.Linear(net.fc.in_features, 18)
    with torch.no_grad():  # non-trivial batch-norm statistics, so eval mode is tested too
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return net.eval()


@pytest.fixture(scope="module")
def weights(original, tmp_path_factory):
    path = tmp_path_factory.mktemp("fairface") / FAIRFACE_FILE
    torch.save(original.state_dict(), path)
    return path
