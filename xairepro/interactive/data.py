"""Data of the interactive study: demo generators with planted attributes, paper loaders.

Layouts are the originals' so one loader serves both scales:

* CelebAMask-HQ: ``<root>/CelebA-HQ-img/<i>.jpg`` and ``<root>/CelebAMask-HQ-attribute-anno.txt``
  (first line the image count, second the 40 attribute names, then ``<i>.jpg`` and 40
  values in {-1, 1}).
* Flowers102: ``<root>/jpg/image_<00001>.jpg`` and ``<root>/imagelabels.mat`` (``labels``,
  1-indexed classes, read with :func:`scipy.io.loadmat`, never unpickled).

The demo draws cartoon faces whose four attributes are drawn features (mouth curvature ->
Smiling, lip and eye-shadow saturation -> Heavy_Makeup, beard and short hair -> Male,
hair colour -> Young) and flowers whose classes differ only in the petals (49 vs 65) or
only in the centre (63 vs 54). The pixels each attribute can change are stored in
``regions.npz`` so that heatmaps can be checked against them.

Also here: what each classifier reads (:func:`load_split` of its task, named as the
original's output folders by :func:`parse_classifier`; :func:`to_tensor` and
:func:`classifier_input`, its normalised input) and the images each explanation is run on
(:func:`pick_images`, :func:`phase3_inputs`, :func:`fairface_inputs`).
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from xairepro.common.download import safe_extract, verify_checksum
from xairepro.common.errors import ConfigError, InputError, XaiReproError
from xairepro.common.io import atomic_path, load_arrays, save_arrays

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

CELEB_ATTRIBUTES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose "
    "Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee "
    "Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard "
    "Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair "
    "Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young"
).split()
PLANTED_ATTRIBUTES = ("Smiling", "Heavy_Makeup", "Male", "Young")
CELEB_IMG_DIR = "CelebA-HQ-img"
CELEB_ANNO = "CelebAMask-HQ-attribute-anno.txt"
FLOWERS_IMG_DIR = "jpg"
FLOWERS_LABELS = "imagelabels.mat"
#: Demo flower classes and what is drawn for each (1-indexed as in Flowers102).
FLOWER_CLASSES = {
    49: {"name": "oxeye daisy", "petals": (12, 16), "petal_width": 0.22, "petal_rgb": (0.95, 0.95, 0.92)},
    65: {"name": "california poppy", "petals": (5, 5), "petal_width": 0.75, "petal_rgb": (0.98, 0.55, 0.08)},
    63: {"name": "black-eyed susan", "centre": 0.08, "centre_rgb": (0.12, 0.06, 0.03)},
    54: {"name": "sunflower", "centre": 0.19, "centre_rgb": (0.45, 0.27, 0.08)},
}
#: Beard colour of every demo male face, whatever the hair colour: a grey-haired man's beard
#: in his hair colour was too close to skin for the demo generator to keep (see README).
STUBBLE = np.array([0.24, 0.18, 0.15])
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# --------------------------------------------------------------------------- drawing
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in [0, 1]: u (column), v (row), each (size, size)."""
    c = (np.arange(size) + 0.5) / size
    return np.meshgrid(c, c)


def _ellipse(u, v, cu, cv, ru, rv, angle=0.0):
    du, dv = u - cu, v - cv
    ca, sa = np.cos(angle), np.sin(angle)
    a, b = du * ca + dv * sa, -du * sa + dv * ca
    return (a / ru) ** 2 + (b / rv) ** 2 <= 1.0


def draw_face(rng: np.random.Generator, attrs: dict[str, int], size: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One cartoon face with the planted attributes.

    Returns
    -------
    image : (size, size, 3) float in [0, 1]
    regions : attribute -> (size, size) bool, the pixels that attribute can change
    """
    u, v = _grid(size)
    cu, cv = 0.5 + rng.uniform(-0.03, 0.03), 0.52 + rng.uniform(-0.03, 0.03)
    img = np.empty((size, size, 3))
    img[:] = rng.uniform(0.25, 0.75, 3) * np.array([0.8, 0.9, 1.0])
    skin = np.array([0.96, 0.80, 0.66]) * rng.uniform(0.6, 1.0)
    if attrs["Young"]:
        hair = np.array([[0.20, 0.12, 0.06], [0.08, 0.06, 0.05], [0.45, 0.28, 0.12]])[rng.integers(3)]
    else:
        hair = np.full(3, rng.uniform(0.72, 0.9))
    stubble = STUBBLE * rng.uniform(0.8, 1.2)  # drawn for every face: flipping Male leaves the stream as it is
    face = _ellipse(u, v, cu, cv, 0.26, 0.32)
    cap = _ellipse(u, v, cu, cv - 0.06, 0.31, 0.33) & (v < cv - 0.12)
    long_sides = (np.abs(u - cu) < 0.33) & (np.abs(u - cu) > 0.2) & (v >= cv - 0.2) & (v < cv + 0.34)
    beard = face & (v > cv + 0.14) & ~_ellipse(u, v, cu, cv + 0.21, 0.1, 0.05)
    img[cap] = hair
    if not attrs["Male"]:
        img[long_sides] = hair
    img[face & ~cap] = skin
    if attrs["Male"]:
        img[beard] = stubble
    # eyes with (makeup) eye shadow above them
    eye_shadow = np.zeros_like(face)
    for side in (-1, 1):
        eu, ev = cu + side * 0.1, cv - 0.05
        shadow = _ellipse(u, v, eu, ev - 0.02, 0.075, 0.045)
        eye_shadow |= shadow
        if attrs["Heavy_Makeup"]:
            img[shadow] = np.array([0.45, 0.1, 0.75])
        img[_ellipse(u, v, eu, ev, 0.035, 0.03)] = 0.05
    # mouth: a thick parabola, corners up (smiling) or down
    curve = (0.1 if attrs["Smiling"] else -0.08) * rng.uniform(0.85, 1.15)
    mv = cv + 0.21
    half = 0.12
    du = (u - cu) / half
    centre_line = mv - curve * du**2
    lips = (np.abs(du) <= 1.0) & (np.abs(v - centre_line) < 0.032)
    img[lips] = np.array([0.85, 0.04, 0.12]) if attrs["Heavy_Makeup"] else skin * np.array([0.8, 0.6, 0.6])
    img += rng.normal(0, 0.02, img.shape)
    mouth_box = (np.abs(u - cu) <= half + 0.02) & (v > mv - 0.13) & (v < mv + 0.11)
    regions = {
        "Smiling": mouth_box,
        "Heavy_Makeup": lips | eye_shadow | mouth_box,
        "Male": long_sides | beard,
        "Young": cap | long_sides,
    }
    return np.clip(img, 0, 1), regions


def draw_flower(rng: np.random.Generator, label: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One flower of a demo class; returns the image and the region its pair differs in."""
    u, v = _grid(size)
    img = np.empty((size, size, 3))
    img[:] = np.array([0.15, 0.35, 0.12]) * rng.uniform(0.6, 1.3) + rng.normal(0, 0.05, (size, size, 3))
    cu, cv = 0.5 + rng.uniform(-0.03, 0.03), 0.5 + rng.uniform(-0.03, 0.03)
    spec = FLOWER_CLASSES[label]
    if label in (49, 65):
        low, high = spec["petals"]
        petals = low + int(rng.random() * (high - low + 1))  # one draw whatever the class
        width, rgb = spec["petal_width"], np.array(spec["petal_rgb"])
        centre, centre_rgb = 0.08, np.array([0.95, 0.8, 0.1])
    else:
        petals, width, rgb = 12 + int(rng.random() * 4), 0.25, np.array([0.98, 0.78, 0.05])
        centre, centre_rgb = spec["centre"], np.array(spec["centre_rgb"])
    length = rng.uniform(0.32, 0.38)
    phase = rng.uniform(0, 2 * np.pi)
    petal_mask = np.zeros((size, size), bool)
    for k in range(petals):
        a = phase + 2 * np.pi * k / petals
        pu, pv = cu + 0.55 * length * np.cos(a), cv + 0.55 * length * np.sin(a)
        petal_mask |= _ellipse(u, v, pu, pv, 0.5 * length, 0.5 * length * width + 0.02, a)
    img[petal_mask] = rgb * rng.uniform(0.85, 1.0)  # petals in one draw, so classes share the noise stream
    img[_ellipse(u, v, cu, cv, centre, centre)] = centre_rgb
    img += rng.normal(0, 0.02, img.shape)
    if label in (49, 65):
        region = _ellipse(u, v, cu, cv, 0.4, 0.4) & ~_ellipse(u, v, cu, cv, 0.08, 0.08)
    else:
        region = _ellipse(u, v, cu, cv, 0.21, 0.21)
    return np.clip(img, 0, 1), region


def _save_jpg(path: Path, image: np.ndarray) -> None:
    from PIL import Image

    with atomic_path(path) as tmp:
        Image.fromarray((image * 255).round().astype(np.uint8)).save(tmp, format="JPEG", quality=95)


def generate_faces(root: str | Path, regions_path: str | Path, *, n_images: int, size: int, seed: int) -> pd.DataFrame:
    """Draw ``n_images`` demo faces into the CelebAMask-HQ layout under ``root``.

    The planted attributes are independent fair coins; the other 36 columns are -1.
    ``regions_path`` gets ``regions`` (n, 4, size, size) bool in :data:`PLANTED_ATTRIBUTES`
    order and the image ``names``.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    (root / CELEB_IMG_DIR).mkdir(parents=True, exist_ok=True)
    rows, regions, names = [], [], []
    for i in range(n_images):
        attrs = {a: int(rng.integers(2)) for a in PLANTED_ATTRIBUTES}
        image, reg = draw_face(rng, attrs, size)
        name = f"{i}.jpg"
        _save_jpg(root / CELEB_IMG_DIR / name, image)
        rows.append([name] + [2 * attrs[a] - 1 if a in attrs else -1 for a in CELEB_ATTRIBUTES])
        regions.append(np.stack([reg[a] for a in PLANTED_ATTRIBUTES]))
        names.append(name)
    frame = pd.DataFrame(rows, columns=["image", *CELEB_ATTRIBUTES])
    lines = [str(n_images), " ".join(CELEB_ATTRIBUTES)]
    lines += [" ".join(str(x) for x in row) for row in rows]
    with atomic_path(root / CELEB_ANNO) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    save_arrays(regions_path, regions=np.stack(regions), names=np.array(names),
                attributes=np.array(PLANTED_ATTRIBUTES))
    log.info("drew %d faces; attribute means %s", n_images,
             {a: float((frame[a] > 0).mean()) for a in PLANTED_ATTRIBUTES})
    return frame


def generate_flowers(root: str | Path, regions_path: str | Path, *, n_per_class: int, size: int, seed: int) -> None:
    """Draw ``n_per_class`` demo flowers of each class of :data:`FLOWER_CLASSES` into the
    Flowers102 layout (``labels`` as a 1 x n row, as Oxford ships it)."""
    from scipy import io as sio

    root = Path(root)
    rng = np.random.default_rng(seed)
    (root / FLOWERS_IMG_DIR).mkdir(parents=True, exist_ok=True)
    labels = rng.permutation(np.repeat(np.array(sorted(FLOWER_CLASSES)), n_per_class))
    regions = []
    for i, label in enumerate(labels):
        image, region = draw_flower(rng, int(label), size)
        _save_jpg(root / FLOWERS_IMG_DIR / f"image_{i + 1:05d}.jpg", image)
        regions.append(region)
    with atomic_path(root / FLOWERS_LABELS) as tmp:
        sio.savemat(tmp, {"labels": labels[None, :].astype(np.uint8)})
    names = np.array([f"image_{i + 1:05d}.jpg" for i in range(len(labels))])
    save_arrays(regions_path, regions=np.stack(regions)[:, None], names=names)


# --------------------------------------------------------------------------- reading
def read_image(path: str | Path, size: int, pad: int = 0, crop_ratio: float = 0.0) -> np.ndarray:
    """An RGB image as (size, size, 3) uint8; a file that is no image is an InputError.

    Celeb (``pad=0, crop_ratio=0``): resize the short side to ``size`` and centre-crop.
    Flowers (the original's validation transform): pad ``pad`` pixels by edge replication,
    centre-crop ``crop_ratio * size``, then resize.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as handle:
            img = handle.convert("RGB")
    except FileNotFoundError as exc:
        raise InputError(path, "image file not found") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(path, f"not a readable image ({exc})", "replace or delete the file") from exc
    if pad:
        img = Image.fromarray(np.pad(np.asarray(img), ((pad, pad), (pad, pad), (0, 0)), mode="edge"))
    if crop_ratio:
        side = min(int(round(crop_ratio * size)), *img.size)
        left, top = (img.size[0] - side) // 2, (img.size[1] - side) // 2
        img = img.crop((left, top, left + side, top + side))
    w, h = img.size
    scale = size / min(w, h)
    img = img.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BILINEAR)
    w, h = img.size
    left, top = (w - size) // 2, (h - size) // 2
    return np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.uint8)


def read_celeb_annotations(root: str | Path) -> pd.DataFrame:
    """The attribute table, indexed by image name, values mapped from {-1, 1} to {0, 1}."""
    path = Path(root) / CELEB_ANNO
    if not path.is_file():
        raise InputError(path, "CelebAMask-HQ attribute file not found",
                         "the folder must hold CelebA-HQ-img/ and CelebAMask-HQ-attribute-anno.txt")
    try:
        frame = pd.read_csv(path, sep=r"\s+", skiprows=1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not a CelebAMask-HQ attribute table ({exc})") from exc
    values = frame.to_numpy()
    if frame.empty or not np.isin(values, (-1, 1)).all():
        raise InputError(path, "attribute values must all be -1 or 1")
    return (frame + 1) / 2


def celeb_split(labels: pd.Series, split: str, seed: int = 42, ratio: float = 0.75) -> pd.Series:
    """The original's split: shuffle with ``random_state=42``, first 75 % train, rest valid."""
    shuffled = labels.sample(frac=1, random_state=seed)
    n_train = int(ratio * len(shuffled))
    return shuffled.head(n_train) if split == "train" else shuffled.tail(len(shuffled) - n_train)


def load_celeb_attribute(root: str | Path, attr: str, size: int, split_seed: int = 42,
                         ratio: float = 0.75, splits: tuple[str, ...] = ("train", "valid")) -> dict[str, np.ndarray]:
    """Train and/or valid images (uint8, (n, size, size, 3)) and 0/1 labels of one attribute."""
    table = read_celeb_annotations(root)
    if attr not in table.columns:
        raise InputError(Path(root) / CELEB_ANNO, f"no attribute column {attr!r}")
    out = {}
    for split in splits:
        part = celeb_split(table[attr], split, split_seed, ratio)
        out[f"x_{split}"] = np.stack([read_image(Path(root) / CELEB_IMG_DIR / name, size) for name in part.index])
        out[f"y_{split}"] = part.to_numpy(np.float32)
        out[f"names_{split}"] = np.asarray(part.index, dtype=str)
    return out


def read_flower_labels(root: str | Path) -> np.ndarray:
    """The 1-indexed class of every image, read with scipy (MATLAB v5 file, no pickle)."""
    from scipy import io as sio

    path = Path(root) / FLOWERS_LABELS
    if not path.is_file():
        raise InputError(path, "Flowers102 label file not found")
    try:
        labels = sio.loadmat(path)["labels"]
    except (ValueError, KeyError, TypeError, OSError, sio.matlab.MatReadError) as exc:
        raise InputError(path, f"not the Flowers102 imagelabels.mat ({exc})") from exc
    return np.asarray(labels).astype(int).ravel()


def load_flowers_pair(root: str | Path, cls1: int, cls2: int, size: int, split_seed: int, ratio: float = 0.75,
                      pad: int = 0, crop_ratio: float = 0.0,
                      splits: tuple[str, ...] = ("train", "valid")) -> dict[str, np.ndarray]:
    """Images of two classes (label 0 for ``cls1``, 1 for ``cls2``), split at random 75/25
    as the original (``torch.randperm``, here seeded)."""
    import torch

    labels = read_flower_labels(root)
    names = [f"image_{i + 1:05d}.jpg" for i in range(len(labels))]
    chosen = [(n, 0.0) for n, y in zip(names, labels) if y == cls1] + [(n, 1.0) for n, y in zip(names, labels) if y == cls2]
    if not chosen or len({y for _, y in chosen}) < 2:
        raise InputError(Path(root) / FLOWERS_LABELS, f"classes {cls1} and {cls2} are not both present")
    order = torch.randperm(len(chosen), generator=torch.Generator().manual_seed(split_seed)).numpy()
    n_train = int(len(order) * ratio)
    out = {}
    for split, idx in (("train", order[:n_train]), ("valid", order[n_train:])):
        if split not in splits:
            continue
        out[f"x_{split}"] = np.stack([read_image(Path(root) / FLOWERS_IMG_DIR / chosen[i][0], size, pad, crop_ratio)
                                      for i in idx])
        out[f"y_{split}"] = np.array([chosen[i][1] for i in idx], np.float32)
        out[f"names_{split}"] = np.array([chosen[i][0] for i in idx])
    return out


def load_regions(path: str | Path, names: np.ndarray, index: int = 0) -> np.ndarray:
    """The planted-region masks (n, H, W) of the named images (demo data only)."""
    arrays = load_arrays(path, required=("regions", "names"))
    where = {str(n): i for i, n in enumerate(arrays["names"])}
    return arrays["regions"][[where[str(n)] for n in names], index]


# --------------------------------------------------------------------------- paper archives
def check_celeb_layout(root: str | Path) -> int:
    """Raise unless ``root`` holds the CelebAMask-HQ layout; return the image count."""
    root = Path(root)
    table = read_celeb_annotations(root)
    missing = [n for n in table.index[:50] if not (root / CELEB_IMG_DIR / n).is_file()]
    if missing:
        raise InputError(root / CELEB_IMG_DIR, f"images listed in {CELEB_ANNO} are missing, e.g. {missing[:3]}")
    return len(table)


def missing_celeb_archive_message(archive: str | Path) -> str:
    """What the user sees when the hand-placed CelebAMask-HQ archive is absent."""
    return (
        f"{archive}: CelebAMask-HQ is hosted on Google Drive and cannot be downloaded by the workflow. "
        "Download CelebAMask-HQ.zip from https://github.com/switchablenorms/CelebAMask-HQ "
        f"(Google Drive link in its README), place it at {archive} and re-run; set "
        "interactive.celeb.archive_sha256 to its sha256 to have it verified."
    )


def extract_celebamask_hq(archive: str | Path, dest: str | Path, sha256: str | None = None) -> int:
    """Verify the hand-placed ``CelebAMask-HQ.zip`` and extract its images and attributes.

    The archive's top folder (``CelebAMask-HQ/``) is dropped so that ``dest`` gets the
    original's layout. Members outside the archive's folder are refused (safe_extract);
    the masks folder is skipped. Returns the number of annotated images.
    """
    archive, dest = Path(archive), Path(dest)
    if not archive.is_file():
        raise XaiReproError(missing_celeb_archive_message(archive))
    if sha256:
        verify_checksum(archive, f"sha256:{sha256}")
    if not zipfile.is_zipfile(archive):
        raise InputError(archive, "not a zip archive", "download CelebAMask-HQ.zip again")
    staging = dest.parent / f".{dest.name}.extract"
    safe_extract(archive, staging)
    anno = sorted(staging.rglob(CELEB_ANNO))
    if not anno:
        raise InputError(archive, f"no {CELEB_ANNO} inside; is this CelebAMask-HQ.zip?")
    top = anno[0].parent
    if not (top / CELEB_IMG_DIR).is_dir():
        raise InputError(archive, f"no {CELEB_IMG_DIR}/ folder beside {CELEB_ANNO}")
    dest.mkdir(parents=True, exist_ok=True)
    (top / CELEB_IMG_DIR).rename(dest / CELEB_IMG_DIR)
    (top / CELEB_ANNO).rename(dest / CELEB_ANNO)
    import shutil

    shutil.rmtree(staging)
    return check_celeb_layout(dest)


def extract_flowers(archive: str | Path, labels: str | Path, dest: str | Path) -> int:
    """Extract ``102flowers.tgz`` (its ``jpg/`` folder) and copy ``imagelabels.mat`` beside it."""
    import shutil

    dest = Path(dest)
    safe_extract(archive, dest)
    if not (dest / FLOWERS_IMG_DIR).is_dir():
        raise InputError(archive, f"no {FLOWERS_IMG_DIR}/ folder inside; is this 102flowers.tgz?")
    with atomic_path(dest / FLOWERS_LABELS) as tmp:
        shutil.copyfile(labels, tmp)
    n = len(read_flower_labels(dest))
    log.info("Flowers102: %d labelled images", n)
    return n


# --------------------------------------------------------------------------- classifier tasks
def parse_classifier(name: str) -> tuple[str, str | tuple[int, int]]:
    """``celeb-Smiling`` -> ("celeb", "Smiling"); ``flowers102_c49-c65`` -> ("flowers102", (49, 65))."""
    if name.startswith("celeb-"):
        return "celeb", name[len("celeb-"):]
    if name.startswith("flowers102_c"):
        c1, _, c2 = name[len("flowers102_c"):].partition("-c")
        if c1.isdigit() and c2.isdigit():
            return "flowers102", (int(c1), int(c2))
    raise ConfigError(f"classifier {name!r}: expected 'celeb-<attribute>' or 'flowers102_c<a>-c<b>'")


def classifier_name(dset: str, classes_or_attr: str) -> str:
    """The original's output folder name: ``celeb-<attr>`` or ``flowers102_c<a>-c<b>``."""
    if dset == "celeb":
        return f"celeb-{classes_or_attr}"
    c1, c2 = classes_or_attr.split("-")
    return f"flowers102_c{int(c1)}-c{int(c2)}"


def load_split(root: str | Path, classifier: str, *, size: int, split_seed: int, ratio: float = 0.75,
               pad: int = 0, crop_ratio: float = 0.0, splits: tuple[str, ...] = ("train", "valid")
               ) -> dict[str, np.ndarray]:
    """Train/valid images (uint8 NHWC) and labels of one classifier's task."""
    dset, target = parse_classifier(classifier)
    if dset == "celeb":
        return load_celeb_attribute(root, target, size, split_seed=split_seed, ratio=ratio, splits=splits)
    return load_flowers_pair(root, *target, size=size, split_seed=split_seed, ratio=ratio, pad=pad,
                             crop_ratio=crop_ratio, splits=splits)


def pick_images(y: np.ndarray, n_imgs: int) -> np.ndarray:
    """The first ``n_imgs`` of each class (the original's exported c1_i / c2_i images)."""
    return np.concatenate([np.flatnonzero(y == 0)[:n_imgs], np.flatnonzero(y == 1)[:n_imgs]])


#: The CelebA attribute whose validation faces FairFace's heatmaps explain when no image
#: folder is given (label 1: a man; a young person).
FAIRFACE_CELEB_ATTRS = {"gender": "Male", "age": "Young"}


def fairface_inputs(root: str | Path | None, attr: str, *, size: int, n_imgs: int, split_seed: int, ratio: float,
                    img_dir: str | Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The images FairFace's ``attr`` heatmaps explain, uint8 (N, H, W, 3), with labels and names.

    With ``img_dir`` (the original's ``--img_path``): every file in it, sorted by name, the
    shorter side resized to ``size`` and not cropped (static_exp.py's ``Resize(224)``); the
    files must then share one aspect ratio, as the original stacks them into one batch;
    labels are NaN. Without: the first ``n_imgs`` validation faces of each class of the
    CelebA attribute :data:`FAIRFACE_CELEB_ATTRS` [attr] (CelebA-HQ faces are square, so
    resizing them is the original's transform).
    """
    if img_dir is None:
        split = load_celeb_attribute(root, FAIRFACE_CELEB_ATTRS[attr], size, split_seed=split_seed, ratio=ratio,
                                     splits=("valid",))
        idx = pick_images(split["y_valid"], n_imgs)
        return split["x_valid"][idx], split["y_valid"][idx], split["names_valid"][idx]
    images, names = read_image_folder(img_dir, size, "set interactive.heatmaps.fairface_img_dir to a folder of faces")
    return images, np.full(len(names), np.nan, np.float32), names


def read_image_folder(folder: str | Path, size: int, fix: str) -> tuple[np.ndarray, np.ndarray]:
    """Every visible file of ``folder``, sorted by name, as uint8 (N, H, W, 3) with the shorter
    side resized to ``size`` (torchvision's ``Resize``, no crop), and the file names. Raises
    :class:`InputError` for an empty folder (with ``fix``), a file that is no image, or images
    of different aspect ratios (explained as one batch)."""
    from PIL import Image, UnidentifiedImageError
    from torchvision.transforms import functional as F

    paths = sorted(p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith("."))
    if not paths:
        raise InputError(folder, "holds no image files", fix)
    images = []
    for path in paths:
        try:
            with Image.open(path) as handle:
                images.append(np.asarray(F.resize(handle.convert("RGB"), size)))
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise InputError(path, f"not a readable image ({exc})", "replace or delete the file") from exc
    odd = [i for i, im in enumerate(images) if im.shape[:2] != images[0].shape[:2]]
    if odd:
        i = odd[0]
        raise InputError(paths[i], f"resizes to {images[i].shape[:2]} but {paths[0].name} to {images[0].shape[:2]}: "
                         "the images must share one aspect ratio", "crop them alike: they are explained as one batch")
    return np.stack(images), np.array([p.name for p in paths])


def phase3_inputs(root: str | Path, attr: str, *, size: int, n_input_imgs: int, split_seed: int, ratio: float,
                  input_img_dir: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The images to explain: every image in ``input_img_dir``, or the first validation
    images of the evaluated attribute (half of each class)."""
    if input_img_dir:
        paths = sorted(p for p in Path(input_img_dir).iterdir() if p.is_file())
        return np.stack([read_image(p, size) for p in paths]), np.array([p.name for p in paths])
    split = load_celeb_attribute(root, attr, size, split_seed=split_seed, ratio=ratio, splits=("valid",))
    y = split["y_valid"]
    half = max(1, n_input_imgs // 2)
    idx = np.concatenate([np.flatnonzero(y == 0)[:half], np.flatnonzero(y == 1)[:n_input_imgs - half]])
    return split["x_valid"][idx], split["names_valid"][idx]


# --------------------------------------------------------------------------- classifier input
def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> ImageNet-normalised float (N, 3, H, W), as the original's tfms."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def classifier_input(images01: torch.Tensor, size: int) -> torch.Tensor:
    """[0, 1] images (N, 3, R, R) -> the classifier's normalised input at ``size``, quantised
    to 8 bits as the original's round trip through PIL."""
    import torch

    x = (images01 * 255).round() / 255
    if x.shape[-1] != size:
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std
