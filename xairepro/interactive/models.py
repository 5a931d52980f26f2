"""Models of the interactive study.

* :func:`resnet18_norepeat`: torchvision's ResNet-18 with ``fc = Linear(512, 1)`` and the
  original's ``resnet_norepeat`` change: every ReLU is its own module (a second ReLU per
  basic block) and none is in-place, so captum's guided methods, which hook ReLU modules,
  see each ReLU once. State-dict keys are torchvision's, so ImageNet weights load as is.
* :class:`DemoGenerator`: a small generator with the StyleGAN2 interface the original
  uses (``z_dim``, ``w_dim``, ``img_resolution``, ``mapping(z, c) -> ws`` with ``w_avg``
  and ``num_ws``, ``synthesis(ws, noise_mode=...)`` in [-1, 1]). At demo scale it is the
  decoder of an autoencoder trained on the procedural faces, with a Gaussian mapping fitted
  to the encoded codes (a deviation: StyleGAN2 is adversarially trained).
* :func:`load_stylegan2_pickle`: paper scale only, a user-provided StyleGAN2-ADA pickle.
* :func:`load_fairface`: paper scale only, FairFace's user-provided ResNet-34 weights
  (:func:`resnet34_fairface`, 18 outputs) read weights-only, with the original's scalar
  gender or age head (:class:`FairFaceReadout`) for the heatmaps, or its skin-colour head
  that labels the ``ff-skin-color`` latent direction (:data:`FAIRFACE_DIRECTIONS`).
* The trained models read back (:func:`load_classifier`, :func:`load_latent_direction`, the
  frozen inputs of the generative explanations) and the generator's latent space
  (:func:`to_unit`, StyleGAN's truncation :func:`truncate` and the original's
  :func:`truncate_original`).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock, ResNet

from xairepro.common.errors import InputError, XaiReproError
from xairepro.common.io import load_torch

log = logging.getLogger(__name__)


class NoRepeatBasicBlock(BasicBlock):
    """A ResNet basic block whose two ReLUs are separate, non-inplace modules."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.relu = nn.ReLU(inplace=False)
        self.relu2 = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu2(out + identity)


def resnet18_norepeat(imagenet_weights: str | Path | None = None) -> ResNet:
    """ResNet-18 with a scalar logit head; ``imagenet_weights`` is torchvision's IMAGENET1K_V1
    weights file (``resnet18-f37072fd.pth``, fetched by the rule interactive_download_pretrained;
    paper scale only: the demo starts from random weights, ``None``)."""
    model = ResNet(NoRepeatBasicBlock, [2, 2, 2, 2])
    if imagenet_weights:
        model.load_state_dict(load_pretrained(imagenet_weights))
    model.relu = nn.ReLU(inplace=False)
    model.fc = nn.Linear(512, 1)
    return model


def load_pretrained(path: str | Path) -> dict[str, torch.Tensor]:
    """A torchvision weights file (a state dict of tensors), read weights-only."""
    state = load_torch(path)
    if not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(path, "not a torchvision weights file (a state dict of tensors)",
                         "delete it and re-run the rule interactive_download_pretrained")
    return state


def download_pretrained(urls: list[str], dest: str | Path, sha256: str, retries: int = 3) -> Path:
    """Fetch a torchvision weights file and check it: against its full sha256, or (as
    torchvision's own ``check_hash``) against the sha256 prefix in its file name, and that it
    reads as a state dict. ``sha256``: 64 hex digits, or the first 8 or more."""
    from xairepro.common.download import download, file_digest

    def check(path: Path) -> None:
        if len(sha256) < 64 and not file_digest(path).startswith(sha256.lower()):
            raise InputError(path, f"sha256 does not start with {sha256}", "the download is corrupt; re-run")
        load_pretrained(path)

    return download(urls, dest, f"sha256:{sha256}" if len(sha256) == 64 else None, retries=retries, verify=check)


def no_inplace(model: nn.Module) -> nn.Module:
    """Turn every in-place activation off (captum's hooks need the unmodified tensors)."""
    for module in model.modules():
        if hasattr(module, "inplace"):
            module.inplace = False
    return model


def relu_modules_are_unique(model: nn.Module) -> bool:
    """True when no ReLU module is called twice in one forward pass (checked with hooks)."""
    calls: dict[int, int] = {}
    hooks = [m.register_forward_hook(lambda m, i, o: calls.__setitem__(id(m), calls.get(id(m), 0) + 1))
             for m in model.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 3, 32, 32))
    finally:
        for h in hooks:
            h.remove()
    return bool(calls) and max(calls.values()) == 1


# --------------------------------------------------------------------------- generator
class MappingNetwork(nn.Module):
    """z -> w = w_avg + z A^T, broadcast to ``num_ws`` copies (StyleGAN's ``mapping``)."""

    def __init__(self, z_dim: int, w_dim: int, num_ws: int):
        super().__init__()
        self.z_dim, self.w_dim, self.num_ws = z_dim, w_dim, num_ws
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.register_buffer("A", torch.eye(w_dim, z_dim))

    def forward(self, z: torch.Tensor, c=None, truncation_psi: float = 1.0) -> torch.Tensor:
        # z: (N, z_dim) -> ws: (N, num_ws, w_dim)
        w = self.w_avg + z @ self.A.T
        if truncation_psi != 1:
            w = self.w_avg + truncation_psi * (w - self.w_avg)
        return w[:, None].repeat(1, self.num_ws, 1)

    @torch.no_grad()
    def fit(self, codes: torch.Tensor, eps: float = 1e-4) -> None:
        """Fit w_avg and A to encoded codes (N, w_dim): a Gaussian with their mean and covariance."""
        self.w_avg.copy_(codes.mean(0))
        centred = codes - self.w_avg
        cov = centred.T @ centred / max(1, len(codes) - 1) + eps * torch.eye(self.w_dim, device=codes.device)
        self.A.copy_(torch.linalg.cholesky(cov.double()).float()[:, : self.z_dim])


class SynthesisNetwork(nn.Module):
    """ws (N, num_ws, w_dim) -> images (N, 3, R, R) in [-1, 1]; ws[:, 0] feeds the 4x4 input,
    ws[:, k] modulates block k (per-channel scale and shift, as StyleGAN's styles)."""

    def __init__(self, w_dim: int, img_resolution: int, channels: int = 64):
        super().__init__()
        self.img_resolution = img_resolution
        self.n_blocks = max(1, (img_resolution // 4).bit_length() - 1)
        self.num_ws = self.n_blocks + 1
        self.channels = channels
        self.input = nn.Linear(w_dim, channels * 16)
        self.styles = nn.ModuleList([nn.Linear(w_dim, 2 * channels) for _ in range(self.n_blocks)])
        self.convs = nn.ModuleList([nn.Conv2d(channels, channels, 3, padding=1) for _ in range(self.n_blocks)])
        self.to_rgb = nn.Conv2d(channels, 3, 1)

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", **_) -> torch.Tensor:
        x = self.input(ws[:, 0]).view(-1, self.channels, 4, 4)
        for k, (style, conv) in enumerate(zip(self.styles, self.convs)):
            x = nn.functional.interpolate(x, scale_factor=2, mode="nearest")
            scale, shift = style(ws[:, k + 1]).chunk(2, dim=1)
            x = conv(x) * (1 + scale[..., None, None]) + shift[..., None, None]
            x = nn.functional.leaky_relu(x, 0.2)
        return torch.tanh(self.to_rgb(x))


class DemoGenerator(nn.Module):
    """The StyleGAN2 interface at demo size (see the module docstring)."""

    def __init__(self, z_dim: int = 64, img_resolution: int = 64, channels: int = 64):
        super().__init__()
        self.z_dim = self.w_dim = z_dim
        self.img_resolution = img_resolution
        self.synthesis = SynthesisNetwork(z_dim, img_resolution, channels)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim, z_dim, self.num_ws)

    def forward(self, z: torch.Tensor, c=None, truncation_psi: float = 1.0, noise_mode: str = "const"):
        return self.synthesis(self.mapping(z, c, truncation_psi), noise_mode=noise_mode)


class Encoder(nn.Module):
    """Images (N, 3, R, R) in [-1, 1] -> codes (N, w_dim): trains the demo generator."""

    def __init__(self, w_dim: int, img_resolution: int, channels: int = 64):
        super().__init__()
        layers, c_in = [], 3
        for _ in range(max(1, (img_resolution // 4).bit_length() - 1)):
            layers += [nn.Conv2d(c_in, channels, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            c_in = channels
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(channels * 16, w_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).flatten(1))


def build_generator(meta: dict) -> DemoGenerator:
    return DemoGenerator(z_dim=int(meta["z_dim"]), img_resolution=int(meta["img_resolution"]),
                         channels=int(meta["channels"]))


def load_generator(path: str | Path, stylegan2_code: str | None = None, allow_pickle: bool = False,
                   device: str = "cpu") -> nn.Module:
    """The generator of the study: the demo's weights file, or (paper) a StyleGAN2-ADA pickle.

    Parameters
    ----------
    path
        ``.pt`` written by the demo trainer (loaded with ``weights_only=True``), or a
        ``.pkl`` of NVlabs' stylegan2-ada-pytorch.
    stylegan2_code
        The folder of a clone of NVlabs/stylegan2-ada-pytorch (its ``dnnlib`` and
        ``torch_utils`` are needed to unpickle).
    allow_pickle
        Must be True to unpickle ``.pkl`` files: unpickling runs code from the file, so only
        do it for a file you trust (the official FFHQ pickle).
    """
    path = Path(path)
    if path.suffix != ".pkl":
        record = load_torch(path)
        from xairepro.interactive.published import is_converted_generator, load_converted_generator

        if is_converted_generator(record):  # weights: published, NVlabs' G_ema converted once
            return load_converted_generator(path, record, stylegan2_code, device)
        model = build_generator(record)
        model.load_state_dict(record["state_dict"])
        return model.eval().to(device)
    return load_stylegan2_pickle(path, stylegan2_code, allow_pickle, device)


def load_stylegan2_pickle(path: str | Path, stylegan2_code: str | None, allow_pickle: bool,
                          device: str = "cpu") -> nn.Module:
    """``G_ema`` of a trusted StyleGAN2-ADA pickle (paper scale only; see :func:`load_generator`)."""
    path = Path(path)
    if not allow_pickle:
        raise XaiReproError(
            f"{path}: StyleGAN2-ADA pickles execute code when loaded. Set "
            "interactive.generator.allow_generator_pickle: true only for a file you trust "
            "(e.g. NVlabs' ffhq.pkl)."
        )
    if not path.is_file():
        raise InputError(path, "StyleGAN2-ADA generator pickle not found",
                         "download e.g. ffhq.pkl from NVlabs' stylegan2-ada-pytorch and place it there")
    if stylegan2_code:
        code = str(Path(stylegan2_code).resolve())
        if not (Path(code) / "dnnlib").is_dir():
            raise InputError(code, "not a clone of NVlabs/stylegan2-ada-pytorch (no dnnlib/)")
        if code not in sys.path:
            sys.path.insert(0, code)
    import pickle  # noqa: S403  # trusted-pickle: paper-scale StyleGAN2-ADA network, user-provided, only with allow_pickle

    with open(path, "rb") as handle:
        generator = pickle.load(handle)["G_ema"]  # noqa: S301  # trusted-pickle: see allow_pickle above
    log.warning("unpickled %s (trusted input)", path)
    return generator.eval().to(device)


# --------------------------------------------------------------------------- trained models
def load_classifier(path: str | Path) -> nn.Module:
    """A trained classifier in eval mode, ReLUs unique and not in-place (ready for captum):
    ours (a record with ``state_dict``) or the original's plain state dict (weights: published)."""
    from xairepro.common.checkpoints import load_strict
    from xairepro.interactive.published import load_published_classifier

    record = load_torch(path)
    if "state_dict" not in record:
        return load_published_classifier(path)
    return load_strict(path, record["state_dict"], resnet18_norepeat()).eval()


def load_classifiers(paths: dict[str, str | Path]) -> dict[str, nn.Module]:
    """Attribute -> trained classifier (eval mode, parameters frozen); an attribute of
    :data:`FAIRFACE_DIRECTIONS` is FairFace's head, ``paths`` giving FairFace's weights."""
    out = {}
    for attr, path in paths.items():
        model = load_fairface(path, FAIRFACE_DIRECTIONS[attr]) if attr in FAIRFACE_DIRECTIONS else load_classifier(path)
        for p in model.parameters():
            p.requires_grad_(False)
        out[attr] = model
    return out


def load_generative_inputs(generator_path: str | Path, stylegan2_code: str | None = None,
                           allow_pickle: bool = False) -> nn.Module:
    """The generator with its parameters frozen (phases 1 and 3 only read it)."""
    generator = load_generator(generator_path, stylegan2_code, allow_pickle)
    for p in generator.parameters():
        p.requires_grad_(False)
    return generator


def load_latent_direction(path: str | Path) -> torch.Tensor:
    """beta (w_dim,), the weight of a trained latent logistic regression."""
    return load_torch(path)["state_dict"]["weight"].flatten()


# --------------------------------------------------------------------------- latent space
def to_unit(images: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] -> [0, 1] (the original's ``(0.5 * I + 0.5).clamp(0, 1)``)."""
    return (0.5 * images + 0.5).clamp(0, 1)


def truncate(w: torch.Tensor, w_avg: torch.Tensor, psi: float) -> torch.Tensor:
    """StyleGAN's truncation trick, w_avg + psi (w - w_avg)."""
    return w_avg + psi * (w - w_avg)


def truncate_original(w: torch.Tensor, w_avg: torch.Tensor, psi: float) -> torch.Tensor:
    """The original's line, w_avg + psi (w + w_avg): kept only to measure the deviation."""
    return w_avg + psi * (w + w_avg)


# --------------------------------------------------------------------------- FairFace
# FairFace's res34_fair_align_multi_7 network (static_exp.py:69-107, generative_exp.py:307-346):
# torchvision's ResNet-34 with fc = Linear(512, 18), outputs race 0-6, gender 7-8 (7 is
# "Male", FairFace's predict.py), age bins 9-17. Its weights are user-provided.
FAIRFACE_FILE = "res34_fair_align_multi_7_20190809.pt"
FAIRFACE_SOURCE = "https://github.com/dchen236/FairFace (README, the 'Models' link: res34_fair_align_multi_7_20190809.pt)"
FAIRFACE_ATTRS = ("gender", "age")  # the heatmaps' heads (static_exp.py --attr)
FAIRFACE_HEADS = (*FAIRFACE_ATTRS, "skin-color")
# generative attributes scored by a FairFace head instead of a CelebA classifier
# (generative_exp.py:252-259: the original maps ff-skin-color to the skin-color head)
FAIRFACE_DIRECTIONS = {"ff-skin-color": "skin-color"}
FAIRFACE_GENDER_OUTPUT = 7
# race outputs 0 "White" and 1 "Black" (FairFace's predict.py): the skin-colour score is
# output 1 minus output 0 (generative_exp.py:323-327)
FAIRFACE_SKIN_OUTPUTS = (1, 0)
FAIRFACE_AGE_OUTPUTS = slice(9, 18)
# the years the original weights the nine age-bin probabilities with (static_exp.py:81-83)
FAIRFACE_AGE_YEARS = (1.0, 6.0, 15.0, 25.0, 35.0, 45.0, 55.0, 65.0, 75.0)
FAIRFACE_SIZE = 224  # Resize(224) of the shorter side, no crop (static_exp.py:95-99)


class FairFaceReadout(nn.Module):
    """The original's scalar head on FairFace's 18 outputs: ``gender`` is the "Male" logit
    (output 7); ``age`` is the expected age in years, softmax over the nine age bins times
    each bin's year; ``skin-color`` is output 1 ("Black") minus output 0 ("White"), a logit
    whose sigmoid labels the generated faces of phase 1. Parameter-free, so the network's
    state dict stays FairFace's."""

    def __init__(self, attr: str):
        super().__init__()
        if attr not in FAIRFACE_HEADS:
            raise ValueError(f"FairFace attribute {attr!r}: choose from {FAIRFACE_HEADS}")
        self.attr = attr
        self.register_buffer("years", torch.tensor(FAIRFACE_AGE_YEARS), persistent=False)

    def forward(self, outputs: torch.Tensor) -> torch.Tensor:
        # outputs: (N, 18) -> (N, 1)
        if self.attr == "gender":
            return outputs[:, FAIRFACE_GENDER_OUTPUT:FAIRFACE_GENDER_OUTPUT + 1]
        if self.attr == "skin-color":
            darker, lighter = FAIRFACE_SKIN_OUTPUTS
            return outputs[:, darker:darker + 1] - outputs[:, lighter:lighter + 1]
        return torch.softmax(outputs[:, FAIRFACE_AGE_OUTPUTS], dim=-1) @ self.years[:, None]


def resnet34_fairface() -> ResNet:
    """FairFace's network with the 18-way head, ReLUs unique and not in-place (as the
    original's ``resnet_norepeat.resnet34``); state-dict keys are torchvision's."""
    model = ResNet(NoRepeatBasicBlock, [3, 4, 6, 3])
    model.relu = nn.ReLU(inplace=False)
    model.fc = nn.Linear(512, 18)
    return model


def load_fairface(path: str | Path, attr: str) -> nn.Module:
    """FairFace's ``res34_fair_align_multi_7`` read weights-only, with the original's scalar
    head for ``attr`` (``--model_name fairface --attr gender|age``, or ``skin-color`` for the
    ``ff-skin-color`` direction), in eval mode and ready for captum (explain it with
    ``target=0``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "FairFace weights not found",
                         f"download {FAIRFACE_FILE} from {FAIRFACE_SOURCE} and place it at this path "
                         "(config key interactive.heatmaps.fairface_path)")
    from xairepro.common.checkpoints import load_strict
    from xairepro.interactive.published import load_plain_state_dict

    readout = FairFaceReadout(attr)
    model = load_strict(path, load_plain_state_dict(path), resnet34_fairface(), "FairFace's ResNet-34 state dict",
                        f"expected {FAIRFACE_FILE} from {FAIRFACE_SOURCE}")
    model.fc = nn.Sequential(model.fc, readout)
    return model.eval()


def classifier_size_of(attr: str, classifier_size: int) -> int:
    """The input size of the model that scores ``attr``: FairFace's 224 px for its
    directions (the original's ``setup_fairface`` transform), else the classifiers' size."""
    return FAIRFACE_SIZE if attr in FAIRFACE_DIRECTIONS else classifier_size


def fairface_transform():
    """The original's FairFace preprocessing: shorter side to 224 px, ImageNet normalisation."""
    from torchvision import transforms

    from xairepro.interactive.data import IMAGENET_MEAN, IMAGENET_STD

    return transforms.Compose([transforms.Resize(FAIRFACE_SIZE), transforms.ToTensor(),
                               transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
