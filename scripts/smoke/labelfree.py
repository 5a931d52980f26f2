"""Tiny stand-ins for the labelfree study's paper-scale downloads (`make paper-smoke`).

``write_mirror(root)`` writes, under ``root/mirror/labelfree/``, files in the exact formats
their publishers serve, and returns the config override that points the download rules at
them (``file://`` URLs) with the checksums of the files just written:

``mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``
    MNIST as torchvision's mirrors serve it (gzipped IDX files), written by the lossgrad
    study's writer (``scripts/smoke/lossgrad.py``, ``write_mnist``: 20 training and 6 test
    images per digit), so that both studies' overrides of ``lossgrad.mnist.mirrors`` /
    ``md5`` name the same bytes whichever is merged last. The MNIST download is lossgrad's
    rule; labelfree needs 2 training and 1 test image per digit (its balanced subsets).
``ecg/ECG5000.zip``
    timeseriesclassification.com's zip: ``ECG5000_TRAIN.arff`` and ``ECG5000_TEST.arff``
    (``@relation``, 140 numeric attributes and a nominal ``target {1,2,3,4,5}``, one beat a
    row) and the archive's ``.txt`` copies. 40 normal (class 1) and 20 abnormal beats
    (classes 2-5), smooth synthetic z-normalised curves. ECG5000 publishes no checksum: the
    sha256 of this file is pinned in ``labelfree.ecg.paper.checksum``.
``cifar10/cifar-10-binary.tar.gz``, ``cifar100/cifar-100-binary.tar.gz``
    The CIFAR binary releases: ``cifar-10-batches-bin/data_batch_{1..5}.bin`` and
    ``test_batch.bin`` (records of 1 label byte + 3072 pixel bytes, R then G then B planes
    of 32x32) with ``batches.meta.txt``; ``cifar-100-binary/train.bin`` and ``test.bin``
    (2 label bytes, coarse then fine, + 3072 pixel bytes) with the label-name files. 100
    training and 40 test images per data set (smooth colour gradients, so they gzip well);
    their md5s replace the authors' published ones.
``dsprites/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``
    DeepMind's file layout: ``imgs`` uint8 ``(N, 64, 64)``, ``latents_classes`` int64 and
    ``latents_values`` float64 ``(N, 6)`` (colour, shape, scale, orientation, x, y) and
    ``metadata``, a pickled 0-d object array holding a dict, as in the original (our reader
    never unpickles it; it is written here only to be the original's format). 400 sprites
    drawn from random factors, in the original's factor-sorted file order.

``FACT/<FACT's path>`` (``write_published``, the published-weights pass)
    Every kind of model FACT publishes, in its repository layout and file format (plain
    state dicts with FACT's key names and the paper's shapes,
    :func:`xairepro.labelfree.published.write_fact_checkpoint`, random tensors): claim 1.1's
    four autoencoders, claim 1.2's four models, one MNIST classifier (encoder vs full), the
    pretext encoders of one run on MNIST and CIFAR-10/100 (12) and the VAEs of one run
    (2 losses x 3 betas x 4 data sets), about 90 MB; and FACT's ``vae/metrics.csv`` of MNIST,
    dSprites and CIFAR-100 in its format (random values, runs 1-2);
    the override switches ``labelfree.weights`` to ``published`` and points
    ``labelfree.published.url`` at them, with their sha256s.

Nothing is placed by hand for this study. Deterministic (fixed seeds, fixed archive timestamps); about 0.6 MB in all.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from xairepro.common.download import file_digest

ECG_NORMAL, ECG_ABNORMAL = 40, 20
CIFAR_TRAIN, CIFAR_TEST = 100, 40
DSPRITES_N = 400


def _tar_add(tf: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(payload), 0, 0o644
    tf.addfile(info, io.BytesIO(payload))


def _write_tar_gz(path: Path, members: dict[str, bytes]) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w") as tf:
            for name, payload in members.items():
                _tar_add(tf, name, payload)


# --- MNIST (lossgrad's writer) -------------------------------------------------------------


def write_mnist(folder: Path) -> dict[str, str]:
    """The four MNIST archives of ``scripts/smoke/lossgrad.py``; returns ``{file.gz: md5}``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("smoke_lossgrad", Path(__file__).with_name("lossgrad.py"))
    lossgrad = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lossgrad)
    return lossgrad.write_mnist(folder)


# --- ECG5000 (ARFF zip) ---------------------------------------------------------------------


def _beats(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """Smooth z-normalised 140-step beats: a QRS spike and a T wave whose sign and place
    depend on the class."""
    t = np.arange(140)
    rows = []
    for label in labels:
        r = 45 + rng.integers(-3, 4)
        beat = 3.0 * np.exp(-0.5 * ((t - r) / 3) ** 2) - 0.8 * np.exp(-0.5 * ((t - r - 6) / 3) ** 2)
        beat += (1 if label == 1 else -1) * 0.9 * np.exp(-0.5 * ((t - r - 40 - 5 * label) / 8) ** 2)
        beat += 0.05 * rng.standard_normal(140)
        rows.append((beat - beat.mean()) / beat.std())
    return np.asarray(rows)


def _arff(beats: np.ndarray, labels: np.ndarray) -> str:
    header = ["@relation 'ECG5000'"] + [f"@attribute att{i} numeric" for i in range(1, 141)]
    header += ["@attribute target {1,2,3,4,5}", "", "@data"]
    body = [",".join(f"{v:.7g}" for v in beat) + f",{label}" for beat, label in zip(beats, labels)]
    return "\n".join(header + body) + "\n"


def write_ecg(folder: Path) -> str:
    """``ECG5000.zip``; returns its sha256."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5000)
    labels = np.concatenate([np.ones(ECG_NORMAL, dtype=int), 2 + np.arange(ECG_ABNORMAL) % 4])
    labels = labels[rng.permutation(len(labels))]
    beats = _beats(rng, labels)
    half = len(labels) // 2
    path = folder / "ECG5000.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for split, rows in (("TRAIN", slice(0, half)), ("TEST", slice(half, None))):
            for member, text in (
                (f"ECG5000_{split}.arff", _arff(beats[rows], labels[rows])),
                (f"ECG5000_{split}.txt", "\n".join(
                    f"{label:.7e} " + " ".join(f"{v:.7e}" for v in beat)
                    for beat, label in zip(beats[rows], labels[rows])) + "\n"),
            ):
                info = zipfile.ZipInfo(member, date_time=(2015, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, text)
    return file_digest(path)


# --- CIFAR-10/100 (binary version) ----------------------------------------------------------


def _cifar_images(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(n, 3, 32, 32)`` uint8 smooth colour gradients with a blob (compress well)."""
    yy, xx = np.mgrid[0:32, 0:32] / 31.0
    out = np.empty((n, 3, 32, 32), dtype=np.uint8)
    for i in range(n):
        a, b, c = rng.uniform(-1, 1, (3, 3))
        cy, cx = rng.uniform(8, 24, 2)
        blob = np.exp(-((yy * 31 - cy) ** 2 + (xx * 31 - cx) ** 2) / 40.0)
        planes = 0.5 + 0.25 * (a[:, None, None] * xx + b[:, None, None] * yy) + 0.4 * c[:, None, None] * blob
        out[i] = np.rint(np.clip(planes, 0, 1) * 255)
    return out


def _records(images: np.ndarray, labels: list[np.ndarray]) -> bytes:
    """CIFAR binary records: the label byte(s), then the 3072 pixel bytes."""
    prefix = np.stack(labels, axis=1).astype(np.uint8)
    return np.concatenate([prefix, images.reshape(len(images), -1)], axis=1).tobytes()


def write_cifar(root: Path) -> dict[str, str]:
    """Both binary archives; returns ``{cifar10: md5, cifar100: md5}``."""
    rng = np.random.default_rng(10)
    sums = {}
    # CIFAR-10: five training batches and one test batch
    folder = root / "cifar10"
    folder.mkdir(parents=True, exist_ok=True)
    members = {"cifar-10-batches-bin/batches.meta.txt":
               b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"}
    per_batch = CIFAR_TRAIN // 5
    for i in range(1, 6):
        labels = (np.arange(per_batch) + i) % 10
        members[f"cifar-10-batches-bin/data_batch_{i}.bin"] = _records(_cifar_images(rng, per_batch), [labels])
    members["cifar-10-batches-bin/test_batch.bin"] = _records(_cifar_images(rng, CIFAR_TEST),
                                                              [np.arange(CIFAR_TEST) % 10])
    members["cifar-10-batches-bin/readme.html"] = (
        b'<meta HTTP-EQUIV="REFRESH" content="0; url=https://www.cs.toronto.edu/~kriz/cifar.html">\n')
    _write_tar_gz(folder / "cifar-10-binary.tar.gz", members)
    sums["cifar10"] = file_digest(folder / "cifar-10-binary.tar.gz", "md5")
    # CIFAR-100: one training and one test file, coarse and fine labels
    folder = root / "cifar100"
    folder.mkdir(parents=True, exist_ok=True)
    members = {
        "cifar-100-binary/coarse_label_names.txt": "".join(f"superclass_{i}\n" for i in range(20)).encode(),
        "cifar-100-binary/fine_label_names.txt": "".join(f"class_{i}\n" for i in range(100)).encode(),
    }
    for name, n in (("train.bin", CIFAR_TRAIN), ("test.bin", CIFAR_TEST)):
        fine = np.arange(n) % 100  # the first classes in turn: class-balanced subsets of up to n find them all
        members[f"cifar-100-binary/{name}"] = _records(_cifar_images(rng, n), [fine // 5, fine])
    _write_tar_gz(folder / "cifar-100-binary.tar.gz", members)
    sums["cifar100"] = file_digest(folder / "cifar-100-binary.tar.gz", "md5")
    return sums


# --- dSprites (DeepMind's npz) --------------------------------------------------------------


def _sprite(shape: int, scale: float, angle: float, x: float, y: float) -> np.ndarray:
    """One 64x64 sprite: a square, an ellipse or a heart-like shape, as a 0/1 mask."""
    yy, xx = np.mgrid[0:64, 0:64].astype(float)
    cx, cy = 8 + x * 47, 8 + y * 47
    u = ((xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)) / (scale * 10)
    v = (-(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)) / (scale * 10)
    if shape == 0:
        mask = (np.abs(u) <= 1) & (np.abs(v) <= 1)
    elif shape == 1:
        mask = (u / 1.2) ** 2 + (v / 0.7) ** 2 <= 1
    else:
        mask = (u**2 + (v * 1.2 - np.sqrt(np.abs(u))) ** 2) <= 1.2
    return mask.astype(np.uint8)


def write_dsprites(folder: Path) -> str:
    """The dSprites npz; returns its md5."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(64)
    sizes = (1, 3, 6, 40, 32, 32)  # colour, shape, scale, orientation, posX, posY
    classes = np.stack([rng.integers(0, k, DSPRITES_N) for k in sizes], axis=1)
    classes = classes[np.lexsort(classes.T[::-1])]  # the original's file order: factor-sorted
    values = np.stack([
        np.ones(DSPRITES_N),
        classes[:, 1] + 1.0,
        np.linspace(0.5, 1.0, 6)[classes[:, 2]],
        np.linspace(0, 2 * np.pi, 40)[classes[:, 3]],
        np.linspace(0, 1, 32)[classes[:, 4]],
        np.linspace(0, 1, 32)[classes[:, 5]],
    ], axis=1)
    imgs = np.stack([_sprite(int(c[1]), v[2], v[3], v[4], v[5]) for c, v in zip(classes, values)])
    metadata = np.empty((), dtype=object)
    metadata[()] = {
        "date": "April 2017", "description": "Disentanglement test Sprites dataset (smoke stand-in).",
        "version": 1, "latents_names": ("color", "shape", "scale", "orientation", "posX", "posY"),
        "latents_possible_values": {}, "latents_sizes": np.array(sizes), "author": "smoke",
        "title": "dSprites dataset",
    }
    path = folder / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
    with open(path, "wb") as handle:  # np.savez_compressed pickles the object array, as the original
        np.savez_compressed(handle, metadata=metadata, imgs=imgs, latents_classes=classes.astype(np.int64),
                            latents_values=values)
    return file_digest(path, "md5")


def write_mirror(root: Path) -> dict:
    """Write the mirror under ``root/mirror/labelfree/``; return the config override."""
    mirror = (Path(root) / "mirror" / "labelfree").resolve()
    mnist = write_mnist(mirror / "mnist")
    ecg = write_ecg(mirror / "ecg")
    cifar = write_cifar(mirror)
    dsprites = write_dsprites(mirror / "dsprites")
    cifar_files = {"cifar10": "cifar-10-binary.tar.gz", "cifar100": "cifar-100-binary.tar.gz"}
    return {
        "lossgrad": {"mnist": {"paper": {"mirrors": [(mirror / "mnist").as_uri() + "/"], "md5": mnist}}},
        "labelfree": {
            "ecg": {"paper": {"urls": [(mirror / "ecg" / "ECG5000.zip").as_uri()], "checksum": f"sha256:{ecg}"}},
            "cifar": {name: {"url": (mirror / name / file).as_uri(), "checksum": f"md5:{cifar[name]}"}
                      for name, file in cifar_files.items()},
            "dsprites": {"url": (mirror / "dsprites" / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz").as_uri(),
                         "checksum": f"md5:{dsprites}"},
        },
    }


#: Outputs of the published-weights pass (relative to the run directory), from FACT-layout
#: checkpoints only (no training job): claim 1.1's autoencoders, claim 1.2's model, the
#: encoder-vs-full classifier, the pretext encoders and the VAEs.
PUBLISHED_TARGETS = [
    # one data set (MNIST) per model kind: the whole study on FACT's files is ~120 jobs (13 min),
    # beyond CI's budget; every kind's loader on every data set, ECG's recurrent key map
    # included, is tested against a reference forward pass in
    # tests/labelfree/test_labelfree_published_{weights,kinds}.py
    "results/paper/labelfree/consistency_features_mnist.csv",
    "results/paper/labelfree/fig_feature_consistency_mnist.png",
    "results/paper/labelfree/consistency_examples_mnist.csv",
    "results/paper/labelfree/fig_example_consistency_mnist.png",
    "results/paper/labelfree/encoder_vs_full_mnist.csv",
    "results/paper/labelfree/fig_encoder_vs_full_mnist.png",
    "results/paper/labelfree/pretext_mnist.csv",
    "results/paper/labelfree/fig_pretext_saliency_mnist.png",
    "results/paper/labelfree/disentanglement_mnist.csv",
    "results/paper/labelfree/fig_disentanglement_mnist.png",
    "results/paper/labelfree/disvae/mnist/fact_metrics.csv",  # FACT's metrics.csv, fetched and read
]

#: FACT's folder of each data set's results.
_FACT_ROOTS = {"mnist": "results/mnist", "ecg": "results/ecg5000", "dsprites": "results/dsprites",
               "cifar10": "results/cifar_vs_mnist/cifar10", "cifar100": "results/cifar_vs_mnist/cifar100"}
#: FACT's file name stem of each pretext task.
_FACT_TASKS = {"reconstruction": "Reconstruction-ae", "denoising": "Denoising-ae", "inpainting": "Inpainting-ae",
               "classification": "Classifier"}


def write_published(root: Path) -> dict:
    """Write every model kind FACT publishes, in its layout, under
    ``root/mirror/labelfree/FACT/`` (the paths of FACT's repository, the study's paper latent
    sizes): claim 1.1's autoencoders, claim 1.2's models, one encoder-vs-full classifier (run
    0), the pretext encoders of run 0 and the VAEs of run 1 (every loss and beta); return the
    override that selects them (``weights: published``, ``file://`` URL template, sha256s)."""
    from xairepro.labelfree.data import class_count
    from xairepro.labelfree.published import write_fact_checkpoint

    fact = (Path(root) / "mirror" / "labelfree" / "FACT").resolve()
    counter = iter(range(10_000))  # one random seed per file

    def entry(path: str, kind: str, dataset: str, latent_dim: int, **fields) -> dict:
        write_fact_checkpoint(fact / path, kind, dataset, latent_dim, seed=next(counter),
                              n_classes=class_count(dataset))
        return {**fields, "path": path, "checksum": f"sha256:{file_digest(fact / path)}"}

    runs = {"mnist": 1, "ecg": 42, "cifar10": 1, "cifar100": 1}  # FACT's random_seed (the run's label)
    latent = {"mnist": 4, "ecg": 64, "cifar10": 16, "cifar100": 16}  # the paper's latent sizes
    autoencoder = {d: [entry(f"{_FACT_ROOTS[d]}/consistency_features/model.pt", "autoencoder", d, latent[d],
                             run=runs[d])] for d in runs}
    denoiser = {d: [entry(f"{_FACT_ROOTS[d]}/consistency_examples/model.pt", "autoencoder", d, latent[d],
                          run=runs[d])] for d in runs}
    classifier = {"mnist": [entry("TrainedModels/MNIST/Classifier_run0.pt", "classifier", "mnist", 4, run=0)]}
    pretext = {d: [entry(f"{_FACT_ROOTS[d]}/pretext/{stem}_run0.pt",
                         "classifier" if task == "classification" else "autoencoder", d, latent[d], run=0, task=task)
                   for task, stem in _FACT_TASKS.items()]
               for d in ("mnist", "cifar10", "cifar100")}
    vae_latent = {"mnist": 3, "dsprites": 6, "cifar10": 16, "cifar100": 16}
    vae = {d: [entry(f"{_FACT_ROOTS[d]}/vae/{stem}-vae_beta{beta}_run1.pt", "vae", d, vae_latent[d], run=1,
                     loss=loss, beta=beta)
               for loss, stem in (("beta_vae", "Beta"), ("beta_tcvae", "TC")) for beta in (1, 5, 10)]
           for d in vae_latent}
    vae_metrics = {d: _fact_metrics(fact, f"{_FACT_ROOTS[d]}/vae/metrics.csv", seed=next(counter))
                   for d in ("mnist", "dsprites", "cifar100")}
    return {"labelfree": {"weights": "published", "published": {
        "url": fact.as_uri() + "/{path}", "dir": None, "autoencoder": autoencoder, "classifier": classifier,
        "denoiser": denoiser, "pretext": pretext, "vae": vae, "vae_metrics": vae_metrics}}}


def _fact_metrics(fact: Path, path: str, seed: int, n_runs: int = 2) -> dict:
    """A metrics.csv in FACT's format and row order (beta, loss, run; FACT
    experiments/mnist.py:550-591) with random values, at ``fact / path``; its config entry."""
    rng = np.random.default_rng(seed)
    lines = ["Loss Type,Beta,Pearson Correlation"]
    lines += [f"{loss},{beta},{rng.uniform(0.1, 0.4)!r}" for beta in (1, 5, 10) for loss in ("Beta", "TC")
              for _ in range(n_runs)]
    (fact / path).parent.mkdir(parents=True, exist_ok=True)
    (fact / path).write_text("\n".join(lines) + "\n")
    return {"path": path, "checksum": f"sha256:{file_digest(fact / path)}"}
