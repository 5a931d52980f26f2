"""Tiny stand-ins for the interactive study's paper inputs (paper-scale smoke run).

Written under ``root/mirror/interactive/`` (served as ``file://`` URLs) unless noted:

* ``102flowers.tgz``: Oxford VGG's Flowers102 archive layout, a gzipped tar whose only
  folder is ``jpg/`` with ``image_00001.jpg`` ... (JPEG, 500 px on the short side as
  Oxford's, so the paper's pad-200 / crop-1.8x transform sees the same geometry; plain
  drawn pictures); 8 images of each class the paper's pairs use (49, 65, 63, 54) and 2 of
  classes 1 and 102, so the pairs are picked out of a labelled set as in the original.
* ``imagelabels.mat``: MATLAB v5 file with the variable ``labels``, uint8 of shape (1, N),
  1-indexed classes in image order (as Oxford ships it).
* ``resnet18-<hash>.pth`` and ``vgg16-<hash>.pth``: torchvision's weight files (a
  ``torch.save``'d state dict under torchvision's key names, ``<hash>`` the first 8 hex
  digits of the file's sha256, as torchvision names them; the override carries that
  prefix, as the paper config carries torchvision's). Not ImageNet weights: seeded
  He-scaled sign tensors, so that the files, whose zip members are deflated here (torch
  reads deflated members), stay ~3 MB. The VGG16 file holds only the ``features`` layers
  the projection uses (``features.0`` to ``features.14``); torchvision's full file also has
  ``features.17`` ... and ``classifier.*``, which the loader skips.
* ``root/data/paper/celebamask_hq/CelebAMask-HQ.zip`` (placed by hand at paper scale, so
  written where the config expects it): the Google Drive archive's layout,
  ``CelebAMask-HQ/CelebA-HQ-img/<i>.jpg`` (32 drawn JPEG pictures of 96 px instead of
  1024 px faces), ``CelebAMask-HQ/CelebAMask-HQ-attribute-anno.txt`` in CelebA's format
  (line 1 the count, line 2 the 40 attribute names, then ``<i>.jpg`` and 40 values of
  1/-1; the four studied attributes balanced and independent, the rest drawn at random)
  and one mask PNG under ``CelebAMask-HQ-mask-anno/0/`` (the extractor skips masks).
* ``root/data/paper/stylegan2/smoke-generator.pt``: the generator. The paper's is NVlabs'
  StyleGAN2-ADA FFHQ pickle, which a smoke never unpickles; this is a seeded, untrained
  generator with the same StyleGAN2 interface (mapping/synthesis, w_avg, num_ws,
  img_resolution; w_avg non-zero, as StyleGAN's, so the truncation record is exercised) in
  the weights format :func:`xairepro.interactive.models.load_generator` reads for the demo
  generator (``state_dict``, ``z_dim``, ``img_resolution``, ``channels``; read
  weights-only). The override points ``generator_path`` at it, so
  phases 1-3 run at paper settings while the pickle loader stays unexecuted.
* ``root/data/paper/fairface/res34_fair_align_multi_7_20190809.pt`` (placed by hand at paper
  scale, as the original's users place FairFace's file): a ``torch.save``'d state dict of
  torchvision's ``resnet34`` with FairFace's 18-way ``fc`` (race 0-6, gender 7-8, age
  9-17), seeded and untrained, under the original network's key names and shapes (~85 MB),
  so the FairFace gender and age heatmaps and the ``ff-skin-color`` direction (phases 1-3)
  run at paper settings.

Returns the override's ``interactive`` part: the ``file://`` URLs and the files' md5 (the
config carries torchvision's md5s of Oxford's files), the weight files' sha256 prefixes, the
archive's sha256 and the generator path.

The published-weights pass (:func:`write_published`, docs/published-weights.md) adds:

* ``root/mirror/interactive/published/celeb-Smiling/discriminator.pt``: the file HealthML
  ship as ``server/resources/evaluators/celeb-smile/discriminator.pt``, in its layout (a
  ``torch.save``'d plain state dict of torchvision's ``resnet18`` with ``fc`` (1, 512) and
  (1,), the original train.py's ``export_model``), at the paper's width (seeded sign
  tensors, deflated, as the ResNet-18 above), checked against its git blob id as the real
  one is; the override names the mirror folder as ``published.dir``, the user's folder.
* ``root/data/paper/stylegan2/smoke-G_ema.pt`` (placed by hand, as the converted NVlabs
  generator is): a smoke generator as above (architecture ``demo``, another seed) in the
  converted format, a record of ``architecture``, ``init_kwargs`` and ``state_dict``
  (read weights-only); NVlabs' own network
  class is not available offline, so the smoke covers the format and the strict loading,
  not ``training.networks.Generator``.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from xairepro.common.download import file_digest

SEED = 0
FLOWER_CLASSES = (49, 65, 63, 54)  # the paper's pairs 49-65 and 63-54
N_PER_FLOWER_CLASS = 8
N_FACES = 32
FACE_PX = 96
STUDIED = ("Heavy_Makeup", "Male", "Smiling", "Young")
# CelebA's 40 attribute names in the annotation file's order, written out here rather than
# taken from xairepro.interactive.data: the mirror must not inherit a mistake of the reader.
CELEB_ATTRIBUTES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose "
    "Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee "
    "Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard "
    "Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair "
    "Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young"
).split()
GENERATOR = {"z_dim": 32, "img_resolution": 64, "channels": 16}


def _jpeg(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _picture(rng: np.random.Generator, height: int, width: int, attrs=(), noise: float = 0.03) -> np.ndarray:
    """A smooth random picture (uint8 (H, W, 3)): background, an ellipse, a bar per attribute set."""
    v, u = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    img = np.empty((height, width, 3))
    img[:] = rng.uniform(0.2, 0.8, 3)
    blob = ((u - 0.5) / 0.3) ** 2 + ((v - 0.5) / 0.35) ** 2 <= 1
    img[blob] = rng.uniform(0.3, 1.0, 3)
    for k, on in enumerate(attrs):
        if on:
            img[(v > 0.1 + 0.2 * k) & (v < 0.2 + 0.2 * k) & (u > 0.2) & (u < 0.8)] = (k % 3 == 0, k % 3 == 1, 1.0)
    img += rng.normal(0, noise, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def write_flowers(mirror: Path) -> dict:
    """``102flowers.tgz`` (jpg/ only) and ``imagelabels.mat``; returns their config keys."""
    from scipy import io as sio

    rng = np.random.default_rng(SEED)
    classes = [c for c in FLOWER_CLASSES for _ in range(N_PER_FLOWER_CLASS)] + [1, 1, 102, 102]
    labels = rng.permutation(np.array(classes))
    archive = mirror / "102flowers.tgz"
    # gzip's header time fixed, as every member's, so the archive is the same on every run
    with gzip.GzipFile(archive, "wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for i, label in enumerate(labels):
            data = _jpeg(_picture(rng, 500, int(rng.integers(500, 700)), (label in (49, 63),), noise=0.0))
            info = tarfile.TarInfo(f"jpg/image_{i + 1:05d}.jpg")
            info.size, info.mtime = len(data), 1_300_000_000
            tar.addfile(info, io.BytesIO(data))
    mat = mirror / "imagelabels.mat"
    buffer = io.BytesIO()
    sio.savemat(buffer, {"labels": labels[None, :].astype(np.uint8)}, format="5")
    # the v5 header's 116 text bytes carry the creation time: a fixed text instead
    header = b"MATLAB 5.0 MAT-file, written by scripts/smoke/interactive.py".ljust(116)
    mat.write_bytes(header + buffer.getvalue()[116:])
    return {"archive_urls": [archive.as_uri()], "archive_md5": file_digest(archive, "md5"),
            "labels_urls": [mat.as_uri()], "labels_md5": file_digest(mat, "md5")}


def _member(name: str) -> zipfile.ZipInfo:
    """A deflated zip member with a fixed date (the archive is the same on every run)."""
    info = zipfile.ZipInfo(name, date_time=(2019, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_celeb(archive: Path) -> str:
    """``CelebAMask-HQ.zip`` in the Google Drive archive's layout; returns its sha256."""
    rng = np.random.default_rng(SEED + 1)
    # studied attributes: every combination of the four equally often (balanced, independent)
    combos = np.array([[(c >> k) & 1 for k in range(4)] for c in range(16)])
    studied = combos[rng.permutation(np.arange(N_FACES) % 16)]
    rows = []
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(N_FACES):
            values = rng.choice([-1, 1], len(CELEB_ATTRIBUTES))
            for k, name in enumerate(STUDIED):
                values[CELEB_ATTRIBUTES.index(name)] = 2 * studied[i, k] - 1
            rows.append(f"{i}.jpg " + " ".join(str(int(x)) for x in values))
            z.writestr(_member(f"CelebAMask-HQ/CelebA-HQ-img/{i}.jpg"), _jpeg(_picture(rng, FACE_PX, FACE_PX, studied[i])))
        anno = [str(N_FACES), " ".join(CELEB_ATTRIBUTES), *rows]
        z.writestr(_member("CelebAMask-HQ/CelebAMask-HQ-attribute-anno.txt"), "\n".join(anno) + "\n")
        from PIL import Image

        mask = io.BytesIO()
        Image.fromarray(np.zeros((32, 32), np.uint8)).save(mask, format="PNG")
        z.writestr(_member("CelebAMask-HQ/CelebAMask-HQ-mask-anno/0/00000_skin.png"), mask.getvalue())
    return file_digest(archive)


def _sign_he(rng: np.random.Generator, shape: tuple[int, ...]):
    """He-scaled sign tensor (low entropy, so the deflated file stays small)."""
    import torch

    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
    return torch.from_numpy((np.sign(rng.standard_normal(shape)) * np.sqrt(2.0 / fan_in)).astype(np.float32))


def _save_deflated(state: dict, mirror: Path, net: str) -> dict:
    """``torch.save`` then re-write the zip with deflated members, named as torchvision names
    its files (``<net>-<first 8 hex digits of the sha256>.pth``); returns the mirror URL and
    that prefix, which the download rule checks as it does torchvision's."""
    path = mirror / f"{net}.pth.part"
    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as out:
        for info in src.infolist():
            out.writestr(info.filename, src.read(info.filename))
    prefix = file_digest(path)[:8]
    final = path.rename(mirror / f"{net}-{prefix}.pth")
    return {"urls": [final.as_uri()], "sha256": prefix}


def write_resnet18(mirror: Path) -> dict:
    """torchvision's ``resnet18`` state dict (fc 1000 classes, BN buffers) as a .pth."""
    import torch

    rng = np.random.default_rng(SEED + 2)
    state: dict = {"conv1.weight": _sign_he(rng, (64, 3, 7, 7))}

    def bn(prefix: str, c: int) -> None:
        state.update({f"{prefix}.weight": torch.ones(c), f"{prefix}.bias": torch.zeros(c),
                      f"{prefix}.running_mean": torch.zeros(c), f"{prefix}.running_var": torch.ones(c),
                      f"{prefix}.num_batches_tracked": torch.tensor(0)})

    bn("bn1", 64)
    c_in = 64
    for layer, c in enumerate((64, 128, 256, 512), 1):
        for block in range(2):
            p = f"layer{layer}.{block}"
            first_in = c_in if block == 0 else c
            state[f"{p}.conv1.weight"] = _sign_he(rng, (c, first_in, 3, 3))
            bn(f"{p}.bn1", c)
            state[f"{p}.conv2.weight"] = _sign_he(rng, (c, c, 3, 3))
            bn(f"{p}.bn2", c)
            if block == 0 and first_in != c:
                state[f"{p}.downsample.0.weight"] = _sign_he(rng, (c, first_in, 1, 1))
                bn(f"{p}.downsample.1", c)
        c_in = c
    state["fc.weight"] = _sign_he(rng, (1000, 512))
    state["fc.bias"] = torch.zeros(1000)
    saved = _save_deflated(state, mirror, "resnet18")
    return {"imagenet_urls": saved["urls"], "imagenet_sha256": saved["sha256"]}


def write_vgg16(mirror: Path) -> dict:
    """torchvision's ``vgg16`` state dict, the ``features`` convolutions up to ``features.14``."""
    import torch

    rng = np.random.default_rng(SEED + 3)
    state = {}
    for index, (c_in, c_out) in zip((0, 2, 5, 7, 10, 12, 14),
                                    ((3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256))):
        state[f"features.{index}.weight"] = _sign_he(rng, (c_out, c_in, 3, 3))
        state[f"features.{index}.bias"] = torch.zeros(c_out)
    saved = _save_deflated(state, mirror, "vgg16")
    return {"vgg16_urls": saved["urls"], "vgg16_sha256": saved["sha256"]}


def write_generator(path: Path) -> None:
    """A seeded, untrained generator with the StyleGAN2 interface, in the demo generator's format."""
    import torch

    from xairepro.interactive.models import DemoGenerator

    torch.manual_seed(SEED)
    generator = DemoGenerator(**GENERATOR)
    generator.mapping.w_avg.normal_(0, 0.5)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": generator.state_dict(), **GENERATOR}, path)


def write_fairface(path: Path) -> None:
    """FairFace's ``res34_fair_align_multi_7`` state dict: torchvision's ResNet-34, fc 18 (seeded)."""
    import torch
    import torchvision

    torch.manual_seed(SEED + 4)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(torchvision.models.resnet34(num_classes=18).state_dict(), path)


def write_mirror(root: Path) -> dict:
    """Write every file above; return the override's ``interactive`` part."""
    mirror = root / "mirror" / "interactive"
    mirror.mkdir(parents=True, exist_ok=True)
    flowers = write_flowers(mirror)
    celeb_sha256 = write_celeb(root / "data" / "paper" / "celebamask_hq" / "CelebAMask-HQ.zip")
    generator = Path("data") / "paper" / "stylegan2" / "smoke-generator.pt"
    write_generator(root / generator)
    write_fairface(root / "data" / "paper" / "fairface" / "res34_fair_align_multi_7_20190809.pt")
    return {"interactive": {
        "celeb": {"archive_sha256": celeb_sha256},
        "flowers": flowers,
        "train": write_resnet18(mirror),
        "generative": write_vgg16(mirror),
        "generator": {"generator_path": str(generator)},
    }}


# The outputs the published-weights pass builds from those files (relative to the run dir).
PUBLISHED_TARGETS = [
    "results/paper/interactive/fig_heatmaps_celeb-Smiling.png",
    "results/paper/interactive/heatmaps.csv",
    "results/paper/interactive/latent_models.csv",
    "results/paper/interactive/generative.csv",
    "results/paper/interactive/fig_canvases_Smiling",
    "results/paper/interactive/claims.csv",
]


def write_published(root: Path) -> dict:
    """The originals' published models in their layouts; returns the published-pass override."""
    import torch
    import torchvision

    from xairepro.interactive.models import DemoGenerator
    from xairepro.interactive.published import git_blob_sha1

    rng = np.random.default_rng(SEED + 5)
    folder = root / "mirror" / "interactive" / "published"
    target = folder / "celeb-Smiling" / "discriminator.pt"
    target.parent.mkdir(parents=True, exist_ok=True)
    # the original's keys and shapes: torchvision's resnet18 with fc = Linear(512, 1)
    state = {k: _sign_he(rng, tuple(v.shape)) if v.ndim > 1 else v
             for k, v in torchvision.models.resnet18(num_classes=1).state_dict().items()}
    saved = _save_deflated(state, folder, "discriminator")
    Path(saved["urls"][0][len("file://"):]).rename(target)
    torch.manual_seed(SEED + 6)
    generator = DemoGenerator(**GENERATOR)
    generator.mapping.w_avg.normal_(0, 0.5)
    converted = Path("data") / "paper" / "stylegan2" / "smoke-G_ema.pt"
    (root / converted).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"architecture": "demo", "init_kwargs": dict(GENERATOR), "state_dict": generator.state_dict()},
               root / converted)
    return {"interactive": {"weights": "published", "published": {
        "classifiers": {"celeb-Smiling": {"file": "celeb-Smiling/discriminator.pt", "urls": [target.as_uri()],
                                          "git_blob_sha1": git_blob_sha1(target), "sha256": None}},
        "generator": str(converted),
        "dir": str(folder),
    }}}
