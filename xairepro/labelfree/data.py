"""Data of the ``labelfree`` study: demo stand-ins with planted ground truth, the readers of
the paper-scale files, and the loaders that turn a data file into model inputs.

* :func:`render_dsprites` re-renders dSprites (Matthey et al. 2017) procedurally: every
  image is drawn from its five generative factors (shape, scale, orientation, x, y), which
  are returned with it and are the ground truth of the disentanglement experiment.
* :func:`simulate_ecg_beats` stands in for ECG5000: single beats of 140 samples simulated
  with neurokit2's ECGSYN model, "normal" with the default wave parameters and "abnormal"
  with an inverted T wave; the time steps where the two morphologies differ are returned
  as the planted mask.
* ECG5000, CIFAR-10/100 and the official dSprites are read from their published files
  without unpickling anything (:func:`read_ecg5000`, :func:`cifar_arrays`,
  :func:`read_official_dsprites`).
* :func:`load_images`, :func:`load_inputs`, :func:`baseline_input`, :func:`load_dataset`
  and :func:`balanced_subset` give the models their inputs (MNIST is the file the lossgrad
  rules write); :func:`example_data` and :func:`example_subsets` those of claim 1.2 on
  every data set.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import numpy as np
import torch

from xairepro.common.io import load_arrays

#: dSprites factor grid: name -> number of values (the original's sizes).
DSPRITES_FACTORS = {"shape": 3, "scale": 6, "orientation": 40, "pos_x": 32, "pos_y": 32}
SHAPES = ("square", "ellipse", "heart")


def _outline(shape: str, n: int = 64) -> np.ndarray:
    """Unit-size outline of a shape as ``(n, 2)`` points (x, y), centred on the origin."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    if shape == "square":
        return np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    if shape == "ellipse":
        return np.stack([0.5 * np.cos(t), 0.32 * np.sin(t)], axis=1)
    if shape == "heart":
        x = 16 * np.sin(t) ** 3
        y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
        return np.stack([x, -y], axis=1) / 34.0
    raise ValueError(f"unknown shape {shape!r}; choose from {SHAPES}")


def render_dsprites(n: int, size: int = 64, seed: int = 0) -> dict[str, np.ndarray]:
    """Draw ``n`` dSprites images with uniformly sampled factors.

    Returns
    -------
    dict
        ``images`` uint8 ``(n, size, size)`` in {0, 1}; ``factors`` int64 ``(n, 5)``, the
        index of each factor in :data:`DSPRITES_FACTORS` order; ``values`` float32
        ``(n, 5)``: shape id, scale in [0.5, 1], orientation in [0, 2 pi), x and y in [0, 1].
    """
    from skimage.draw import polygon

    rng = np.random.default_rng(seed)
    sizes = list(DSPRITES_FACTORS.values())
    factors = np.stack([rng.integers(0, k, n) for k in sizes], axis=1)
    scale = np.linspace(0.5, 1.0, sizes[1])[factors[:, 1]]
    angle = np.linspace(0, 2 * np.pi, sizes[2], endpoint=False)[factors[:, 2]]
    pos_x = np.linspace(0, 1, sizes[3])[factors[:, 3]]
    pos_y = np.linspace(0, 1, sizes[4])[factors[:, 4]]
    outlines = {shape: _outline(shape) for shape in SHAPES}
    images = np.zeros((n, size, size), dtype=np.uint8)
    extent = 0.3 * size  # a scale-1 shape spans 30 % of the canvas, centres stay inside
    margin = extent / 2 + 1
    for i in range(n):
        cos, sin = np.cos(angle[i]), np.sin(angle[i])
        pts = outlines[SHAPES[factors[i, 0]]] @ np.array([[cos, sin], [-sin, cos]]) * scale[i] * extent
        cx = margin + pos_x[i] * (size - 1 - 2 * margin)
        cy = margin + pos_y[i] * (size - 1 - 2 * margin)
        rows, cols = polygon(pts[:, 1] + cy, pts[:, 0] + cx, shape=(size, size))
        images[i, rows, cols] = 1
    values = np.stack([factors[:, 0], scale, angle, pos_x, pos_y], axis=1).astype(np.float32)
    return {"images": images, "factors": factors.astype(np.int64), "values": values}


def simulate_ecg_beats(
    n_normal: int, n_abnormal: int, length: int = 140, seed: int = 0, noise: float = 0.01,
    recordings: int = 8, jitter: float = 0.2, max_shift: int = 3,
) -> dict[str, np.ndarray]:
    """ECG5000-like beats: ``length`` samples per beat, R peak near a third of the window.

    Each class is simulated as ``recordings`` ECGSYN recordings at ``length`` Hz and 60
    beats per minute (one beat per ``length`` samples), each with its P, Q, R, S and T
    amplitudes scaled by a random factor in ``1 +- jitter`` (beat-to-beat variety, like
    different patients), cut into beats with a random offset of up to ``max_shift``
    samples, and z-normalised per beat as in ECG5000. "Abnormal" beats carry an inverted T
    wave; nothing else tells the classes apart.

    Returns
    -------
    dict
        ``beats`` float32 ``(n_normal + n_abnormal, length)``; ``labels`` int64, 1 = normal
        (ECG5000's class 1), 0 = abnormal; ``planted`` bool ``(length,)``, the T-wave
        window, by construction: ECGSYN places the T wave 100 degrees of the cycle after
        the R peak with a width of 0.4 rad, so the window is centre +- 2 widths (+ the
        largest offset). It is the ground truth of what distinguishes the classes.
    """
    import neurokit2 as nk

    rng = np.random.default_rng(seed)
    r_index = length // 3  # R peak at a third of the window, as in ECG5000

    def beats(count: int, t_sign: float) -> np.ndarray:
        per_recording = -(-count // recordings)
        out = []
        for _ in range(recordings):
            scale = 1 + jitter * rng.uniform(-1, 1, 5)
            ai = tuple(float(a) for a in np.array([1.2, -5.0, 30.0, -7.5, 0.75 * t_sign]) * scale)
            signal = nk.ecg_simulate(duration=per_recording + 3, sampling_rate=length, heart_rate=60,
                                     heart_rate_std=0, noise=noise, method="ecgsyn",
                                     random_state=int(rng.integers(2**31)), ai=ai)
            signal = np.asarray(signal, dtype=np.float64)
            first_r = int(np.argmax(signal[length : 2 * length])) + length
            for b in range(per_recording):
                start = first_r - r_index + b * length + int(rng.integers(-max_shift, max_shift + 1))
                out.append(signal[start : start + length])
        cut = np.stack(out[:count])
        cut = cut - cut.mean(axis=1, keepdims=True)
        return cut / cut.std(axis=1, keepdims=True)

    normal = beats(n_normal, 1.0)
    abnormal = beats(n_abnormal, -1.0)  # inverted T wave
    t_centre = r_index + 100 / 360 * length  # ECGSYN's default T-wave angle, 100 degrees
    t_width = 0.4 / (2 * np.pi) * length  # and width, 0.4 rad, in samples
    planted = np.abs(np.arange(length) - t_centre) <= 2 * t_width + max_shift
    return {
        "beats": np.concatenate([normal, abnormal]).astype(np.float32),
        "labels": np.concatenate([np.ones(n_normal), np.zeros(n_abnormal)]).astype(np.int64),
        "planted": planted,
    }


def read_official_dsprites(path, seed: int = 0) -> dict[str, np.ndarray]:
    """The arrays of the official dSprites ``.npz`` (its URL and md5: config
    ``labelfree.dsprites``) in :func:`render_dsprites`' layout, in a random order.

    Its ``metadata`` entry is a pickled object and is never read (``allow_pickle=False``);
    ``imgs``, ``latents_classes`` and ``latents_values`` are plain arrays. The file lists
    the sprites sorted by their factors (shape slowest, y fastest); they are permuted
    (seeded by ``seed``) so that :func:`load_dataset`'s 90/10 split in file order draws
    train and test images from every shape and scale, as the demo's randomly sampled
    sprites are.
    """
    from xairepro.common.errors import InputError

    try:
        with np.load(path, allow_pickle=False) as data:
            images = data["imgs"].astype(np.uint8)
            classes = data["latents_classes"][:, 1:].astype(np.int64)  # drop the constant colour factor
            values = data["latents_values"][:, 1:].astype(np.float32)
    except Exception as exc:  # zlib.error, BadZipFile, KeyError, ValueError, a garbled header, ...
        # numpy's own message may suggest unpickling the file: name the error type only
        raise InputError(
            path, f"not the official dSprites npz, or damaged ({type(exc).__name__})",
            "download it again; see README, 'Bad inputs'",
        ) from exc
    order = np.random.default_rng(seed).permutation(len(images))
    return {"images": images[order], "factors": classes[order], "values": values[order]}


# --- ECG5000 -----------------------------------------------------------------------------

#: ECG5000 (UCR/UEA archive; mirrors: config ``labelfree.ecg.paper.urls``) publishes no
#: checksum: the download is verified by its content (:func:`verify_ecg5000`) and its sha256
#: logged, so a user can pin it (``labelfree.ecg.paper.checksum``).
#: Beats per class in ECG5000 (TRAIN + TEST): 1 normal, 2 R-on-T PVC, 3 PVC, 4 SP, 5 UB.
ECG5000_CLASS_COUNTS = {1: 2919, 2: 1767, 3: 96, 4: 194, 5: 24}
ECG_LENGTH = 140


def parse_arff(text: str, source) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a numeric ARFF file whose last attribute is the class: ``(values, labels)``.

    Header lines (``@...``), comments (``%...``) and blank lines are skipped; a data row
    that does not parse is an :class:`InputError` naming ``source`` and the line.
    """
    from xairepro.common.errors import InputError

    values, labels = [], []
    in_data = False
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("%"):
            continue
        if line.startswith("@"):
            in_data = in_data or line.lower().startswith("@data")
            continue
        if not in_data:
            continue
        fields = line.split(",")
        try:
            values.append([float(f) for f in fields[:-1]])
            labels.append(int(float(fields[-1].strip().strip("'\""))))
        except ValueError as exc:
            raise InputError(source, f"line {number} is not a numeric ARFF row ({exc})") from exc
    if not values or len({len(v) for v in values}) != 1:
        raise InputError(source, "no data rows, or rows of different lengths")
    return np.asarray(values, dtype=np.float32), np.asarray(labels, dtype=np.int64)


def read_ecg5000(path) -> dict[str, np.ndarray]:
    """The 5000 beats of ``ECG5000.zip``: its TRAIN and TEST ARFF files, concatenated.

    The members are read from the archive in memory (nothing is extracted). Returns
    ``beats`` float32 ``(5000, 140)`` and ``labels`` int64 (1 = normal ... 5).
    """
    import zipfile

    from xairepro.common.errors import InputError

    try:
        with zipfile.ZipFile(path) as zf:
            names = {PurePosixPath(n).name: n for n in zf.namelist()}
            parts = []
            for split in ("TRAIN", "TEST"):
                member = names.get(f"ECG5000_{split}.arff")
                if member is None:
                    raise InputError(path, f"ECG5000_{split}.arff is missing from the archive")
                parts.append(parse_arff(zf.read(member).decode("utf-8", "replace"), f"{path}:{member}"))
    except zipfile.BadZipFile as exc:
        raise InputError(path, f"not a zip archive ({exc})", "delete it and re-run the download") from exc
    return {"beats": np.concatenate([p[0] for p in parts]), "labels": np.concatenate([p[1] for p in parts])}


def verify_ecg5000(path) -> None:
    """Content check of a downloaded ``ECG5000.zip``: 5000 beats of 140 steps, ECG5000's class counts."""
    from xairepro.common.errors import InputError

    data = read_ecg5000(path)
    counts = {int(c): int(n) for c, n in zip(*np.unique(data["labels"], return_counts=True))}
    if data["beats"].shape != (sum(ECG5000_CLASS_COUNTS.values()), ECG_LENGTH) or counts != ECG5000_CLASS_COUNTS:
        raise InputError(path, f"not ECG5000: {data['beats'].shape} beats with class counts {counts}, "
                               f"expected (5000, 140) and {ECG5000_CLASS_COUNTS}")


def ecg_demo(n_normal: int, n_abnormal: int, seed: int = 0, noise: float = 0.01) -> dict[str, np.ndarray]:
    """The demo ECG file: :func:`simulate_ecg_beats` in the layout of :func:`read_ecg5000`
    (``beats``, ``labels`` with 1 = normal), plus the ``planted`` T-wave window."""
    sim = simulate_ecg_beats(n_normal, n_abnormal, length=ECG_LENGTH, seed=seed, noise=noise)
    labels = np.where(sim["labels"] == 1, 1, 2).astype(np.int64)  # abnormal beats as ECG5000's class 2
    return {"beats": sim["beats"], "labels": labels, "planted": sim["planted"]}


# --- CIFAR-10 / CIFAR-100 (binary version: raw bytes, no pickle) ----------------------------

#: The layout of CIFAR's binary releases (Krizhevsky 2009; URLs and the authors' md5s:
#: config ``labelfree.cifar``). The "python version" that torchvision reads is pickled: not
#: used.
CIFAR = {
    "cifar10": {"folder": "cifar-10-batches-bin", "train": [f"data_batch_{i}.bin" for i in range(1, 6)],
                "test": ["test_batch.bin"], "label_bytes": 1, "n_classes": 10},
    "cifar100": {"folder": "cifar-100-binary", "train": ["train.bin"], "test": ["test.bin"], "label_bytes": 2,
                 "n_classes": 100},
}


def read_cifar_binary(paths, label_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """Records of CIFAR binary files: ``label_bytes`` label bytes (CIFAR-100: coarse then
    fine; the last one is used) followed by 3 x 32 x 32 pixel bytes. Returns uint8 images
    ``(N, 3, 32, 32)`` and int64 labels."""
    from xairepro.common.errors import InputError

    record = label_bytes + 3 * 32 * 32
    images, labels = [], []
    for path in paths:
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size == 0 or raw.size % record:
            raise InputError(path, f"{raw.size} bytes is not a whole number of {record}-byte CIFAR records",
                             "the archive is truncated; delete it and re-run the download")
        rows = raw.reshape(-1, record)
        labels.append(rows[:, label_bytes - 1].astype(np.int64))
        images.append(rows[:, label_bytes:].reshape(-1, 3, 32, 32))
    return np.concatenate(images), np.concatenate(labels)


def cifar_arrays(root, dataset: str) -> dict[str, np.ndarray]:
    """``train_x/train_y/test_x/test_y`` of an extracted CIFAR binary archive under ``root``.

    The archive's md5 pins its content (50,000 + 10,000 images in the published one), so
    only the layout is checked here: every file present, whole records, labels in range.
    """
    from xairepro.common.errors import InputError

    spec = CIFAR[dataset]
    folder = Path(root) / spec["folder"]
    out = {}
    for split in ("train", "test"):
        files = [folder / name for name in spec[split]]
        missing = [f for f in files if not f.is_file()]
        if missing:
            raise InputError(missing[0], f"missing from the {dataset} archive")
        x, y = read_cifar_binary(files, spec["label_bytes"])
        if y.max() >= spec["n_classes"]:
            raise InputError(folder, f"{split} label {int(y.max())} out of range for {dataset}")
        out[f"{split}_x"], out[f"{split}_y"] = x, y
    return out


# --- Model inputs --------------------------------------------------------------------------


def load_images(path: str | Path, split: str, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(N, 1, 28, 28)`` in [0, 1] (ToTensor, no normalisation) and labels ``(N,)``."""
    arrays = load_arrays(path, required=(f"{split}_x", f"{split}_y"))
    x, y = arrays[f"{split}_x"], arrays[f"{split}_y"]
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1), torch.from_numpy(y.astype(np.int64))


def load_inputs(path: str | Path, dataset: str, split: str, limit: int | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """The inputs of a feature-consistency data set, channel-first floats, and labels.

    MNIST ``(N, 1, 28, 28)`` and CIFAR ``(N, 3, 32, 32)`` scaled to [0, 1]; ECG beats
    ``(N, 1, 140)`` as stored, the ``train`` split being the normal beats (class 1) and
    ``test`` the abnormal ones, as in the original's feature experiment.
    """
    if dataset == "mnist":
        return load_images(path, split, limit)
    if dataset == "ecg":
        arrays = load_arrays(path, required=("beats", "labels"))
        keep = arrays["labels"] == 1 if split == "train" else arrays["labels"] != 1
        x, y = arrays["beats"][keep], arrays["labels"][keep]
        x, y = (x[:limit], y[:limit]) if limit is not None else (x, y)
        return torch.from_numpy(x.astype(np.float32)).unsqueeze(1), torch.from_numpy(y.astype(np.int64))
    arrays = load_arrays(path, required=(f"{split}_x", f"{split}_y"))
    x, y = arrays[f"{split}_x"], arrays[f"{split}_y"]
    x, y = (x[:limit], y[:limit]) if limit is not None else (x, y)
    return torch.from_numpy(x.astype(np.float32) / 255.0), torch.from_numpy(y.astype(np.int64))


def baseline_input(data_path: str | Path, dataset: str, kind: str) -> torch.Tensor:
    """The reference input ``(1, C, ...)`` of attributions and masking: ``zero`` (the black
    image, the original's choice for images) or ``mean`` (the mean training input: for ECG
    the mean normal beat, the original's baseline)."""
    x, _ = load_inputs(data_path, dataset, "train")
    if kind == "zero":
        return torch.zeros(1, *x.shape[1:])
    if kind == "mean":
        return x.mean(dim=0, keepdim=True)
    raise ValueError(f"unknown baseline {kind!r}; choose zero or mean")


def mnist_32(images: np.ndarray, how: str = "pad") -> torch.Tensor:
    """MNIST digits ``(N, 28, 28)`` uint8 as ``(N, 1, 32, 32)`` in [0, 1] for the VAEs: ``pad``
    (two zero pixels on every side, the digits' pixels unchanged) or ``resize`` (bilinear on
    the 8-bit image, then rounded to 8 bits, as torchvision's ``Resize(32)`` does on the PIL
    images the originals load, FACT experiments/mnist.py:527-528)."""
    if how == "pad":
        return torch.nn.functional.pad(torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1), (2, 2, 2, 2))
    if how == "resize":
        from PIL import Image

        if images.dtype != np.uint8:
            raise ValueError(f"resize needs 8-bit digits, got {images.dtype}")
        big = np.stack([np.asarray(Image.fromarray(im).resize((32, 32), Image.BILINEAR)) for im in images])
        return torch.from_numpy(big.astype(np.float32) / 255.0).unsqueeze(1)
    raise ValueError(f"unknown mnist_to_32 {how!r}; choose pad or resize")


def load_dataset(path: str | Path, dataset: str, mnist_to_32: str = "pad") -> tuple[torch.Tensor, torch.Tensor]:
    """Train and test images in [0, 1], ``(N, C, S, S)``, of the disentanglement experiment:
    MNIST brought to 32 pixels by :func:`mnist_32` (``mnist_to_32``), dSprites as
    stored (``images`` split 90/10 in file order), CIFAR-10/100 ``(N, 3, 32, 32)`` as stored
    (FACT's ``Resize(32)`` leaves them as they are)."""
    arrays = load_arrays(path)
    if dataset == "mnist":
        return mnist_32(arrays["train_x"], mnist_to_32), mnist_32(arrays["test_x"], mnist_to_32)
    if dataset == "dsprites":
        images = torch.from_numpy(arrays["images"].astype(np.float32)).unsqueeze(1)
        cut = int(0.9 * len(images))
        return images[:cut], images[cut:]
    if dataset in CIFAR:
        return load_inputs(path, dataset, "train")[0], load_inputs(path, dataset, "test")[0]
    raise ValueError(f"unknown dataset {dataset!r}; choose mnist, dsprites, {' or '.join(CIFAR)}")


def class_count(dataset: str) -> int:
    """Number of classes of a labelled data set (MNIST 10, CIFAR-10 10, CIFAR-100 100)."""
    return CIFAR[dataset]["n_classes"] if dataset in CIFAR else 10


def balanced_subset(labels: torch.Tensor, size: int, n_classes: int = 10) -> torch.Tensor:
    """Indices of ``size`` examples, the n-th of class ``n % n_classes`` in turn (as FACT).
    Only the classes drawn are checked (fewer than ``n_classes`` when ``size`` is smaller)."""
    per_class = [torch.nonzero(labels == c).flatten() for c in range(n_classes)]
    needed = [len(range(c, size, n_classes)) for c in range(n_classes)]  # examples drawn from class c
    short = [c for c, idx in enumerate(per_class) if len(idx) < needed[c]]
    if short:
        raise ValueError(f"classes {short} have fewer than {max(needed)} examples for a balanced subset of {size}")
    return torch.stack([per_class[n % n_classes][n // n_classes] for n in range(size)])


# --- Claim 1.2: example-importance data --------------------------------------------------

def example_classes(dataset: str) -> int:
    """Classes of an example-importance data set: :func:`class_count`'s, ECG5000's two
    (normal vs abnormal beats, :func:`example_data`)."""
    return 2 if dataset == "ecg" else class_count(dataset)


def example_data(path: str | Path, dataset: str, seed: int, test_fraction: float = 0.2
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``train_x, train_y, test_x, test_y`` of the example-importance experiment (claim 1.2).

    MNIST and CIFAR: their train and test splits (:func:`load_inputs`). ECG5000: every beat,
    labelled 0 (normal, class 1) or 1 (abnormal), split at random into ``1 - test_fraction``
    / ``test_fraction`` by ``seed`` (the original's 4,000 / 1,000: Label-Free-XAI
    experiments/ecg5000.py:146-147 and ``ECG5000(experiment="examples")``,
    src/lfxai/utils/datasets.py:306-308). Beats are ``(N, 1, 140)``.
    """
    if dataset != "ecg":
        return (*load_inputs(path, dataset, "train"), *load_inputs(path, dataset, "test"))
    arrays = load_arrays(path, required=("beats", "labels"))
    x = torch.from_numpy(arrays["beats"].astype(np.float32)).unsqueeze(1)
    y = torch.from_numpy((arrays["labels"] != 1).astype(np.int64))
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    n_test = int(round(test_fraction * len(x)))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def example_subsets(train_y: torch.Tensor, test_y: torch.Tensor, dataset: str, subtrain_size: int,
                    subtest_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of the scored training examples and of the explained test examples.

    Training: class-balanced (:func:`balanced_subset`, the data set's
    :func:`example_classes`). Test: class-balanced too (FACT), except ECG5000, where the
    original draws ``subtest_size`` test beats at random (experiments/ecg5000.py:178),
    drawn here by ``seed``.
    """
    n_classes = example_classes(dataset)
    sub_train = balanced_subset(train_y, subtrain_size, n_classes)
    if dataset == "ecg":
        sub_test = torch.randperm(len(test_y), generator=torch.Generator().manual_seed(seed))[:subtest_size]
    else:
        sub_test = balanced_subset(test_y, subtest_size, n_classes)
    return sub_train, sub_test
