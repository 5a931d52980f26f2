"""Tiny inputs of the ``lossgrad`` study's paper-scale smoke run, in the originals' formats.

Called by ``scripts/smoke/setup.py`` (``write_mirror(root)``); everything lands under
``root/mirror/lossgrad/`` and is served to the download rules as ``file://`` URLs. Nothing
has to be placed by hand: both originals are downloaded.

``mnist/`` (imitates torchvision's MNIST mirrors, e.g. ``ossci-datasets.s3.amazonaws.com/mnist/``)
    ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
    ``t10k-labels-idx1-ubyte.gz``: LeCun's IDX files, gzipped. Images: big-endian int32 magic
    2051, count, 28, 28, then uint8 pixels row by row; labels: magic 2049, count, then uint8
    labels. 200 training and 60 test images, 20 and 6 per digit (so the 0-vs-1 heads get 40
    and 12), each a class-specific stroke pattern in MNIST's central 20x20 box with per-image
    jitter and noise. The override carries their md5 sums (``lossgrad.mnist.md5``), as
    torchvision's table does for the real files.

``zenodo/`` (imitates Zenodo: the Jamendo record 2585988)
    ``records/2585988/files/jamando.zip``: the corpus as the original singing-voice code reads
    it, one folder ``jamendo/`` with ``audio/*.ogg`` (Ogg Vorbis, 44.1 kHz stereo, like the
    Jamendo recordings), ``labels/*.lab`` (``start end sing|nosing`` lines, seconds) and
    ``filelists/{train,valid,test}`` (one audio file name per line; names with spaces, as
    Jamendo's ``"NN - Title.ogg"``). 2 training, 1 validation and 1 test song of 2.5 s, each
    with sung and unsung stretches (a vibrato voice over a chord bed), so that every split
    has both classes (thresholds, AUROC). Written with ``zipfile`` (deflated, fixed dates).
    ``api/records/2585988``: the record's JSON in Zenodo's REST API format (``files``
    entries with ``key``, ``size``, ``checksum: "md5:<hex>"`` and ``links``), carrying the
    tiny archive's md5; the download rule reads its checksum from there, as from Zenodo.

Deterministic: fixed seeds, zip and gzip with fixed timestamps.
"""

from __future__ import annotations

import gzip
import io
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np

from xairepro.common.download import file_digest

sys.path.insert(0, str(Path(__file__).parent))
import zenodo_record  # noqa: E402  (scripts/smoke/zenodo_record.py)

#: Images per digit in the tiny MNIST train / test files.
MNIST_PER_CLASS = {"train": 20, "t10k": 6}
#: Songs per split of the tiny Jamendo corpus, seconds per song, and the audio rate.
JAMENDO_SPLITS = {"train": 2, "valid": 1, "test": 1}
SONG_SECONDS = 2.5
RATE = 44100
RECORD_ID = 2585988
ARCHIVE = "jamando.zip"  # (sic) the record's file name


# --------------------------------------------------------------------------- MNIST
def _digit_images(rng: np.random.Generator, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    """``(10 * per_class, 28, 28)`` uint8 images and their labels, in shuffled order."""
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float64)
    templates = []
    shape_rng = np.random.default_rng(1234)
    for _ in range(10):
        # a stroke: a few Gaussian dots along a random path inside the 20x20 box
        points = 4 + shape_rng.uniform(0, 20, size=(6, 2))
        templates.append(points)
    images, labels = [], []
    for label in range(10):
        for _ in range(per_class):
            canvas = np.zeros((28, 28))
            shift = rng.normal(0, 0.8, size=2)
            for a, b in zip(templates[label][:-1], templates[label][1:]):
                for t in np.linspace(0, 1, 8):
                    cy, cx = (1 - t) * a + t * b + shift
                    canvas += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 2.0)
            canvas = np.clip(canvas / canvas.max() + rng.normal(0, 0.05, size=canvas.shape), 0, 1)
            canvas[:4], canvas[-4:], canvas[:, :4], canvas[:, -4:] = 0, 0, 0, 0
            images.append(np.rint(canvas * 255).astype(np.uint8))
            labels.append(label)
    order = rng.permutation(len(labels))
    return np.stack(images)[order], np.array(labels, dtype=np.uint8)[order]


def _write_idx_gz(path: Path, payload: bytes) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        out.write(payload)


def write_mnist(folder: Path) -> dict[str, str]:
    """The four gzipped IDX files; returns ``{file.gz: md5}``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sums = {}
    for split, per_class in MNIST_PER_CLASS.items():
        images, labels = _digit_images(rng, per_class)
        n = len(labels)
        files = {
            f"{split}-images-idx3-ubyte.gz": struct.pack(">iiii", 2051, n, 28, 28) + images.tobytes(),
            f"{split}-labels-idx1-ubyte.gz": struct.pack(">ii", 2049, n) + labels.tobytes(),
        }
        for name, payload in files.items():
            _write_idx_gz(folder / name, payload)
            sums[name] = file_digest(folder / name, "md5")
    return sums


# --------------------------------------------------------------------------- Jamendo
def _song(rng: np.random.Generator, seconds: float) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    """Stereo float32 ``(samples, 2)`` audio and its ``.lab`` segments: unsung, sung, unsung."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    root = rng.uniform(100, 160)
    bed = sum(np.sin(2 * np.pi * root * r * h * t) / h for r in (1, 1.25, 1.5) for h in range(1, 6))
    bed = 0.3 * bed / np.abs(bed).max()
    cut1, cut2 = round(float(rng.uniform(0.5, 0.9)), 3), round(float(rng.uniform(1.6, 2.0)), 3)
    f0 = rng.uniform(200, 320) * (1 + 0.03 * np.sin(2 * np.pi * 6 * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    voice = sum(np.sin(h * phase) * np.exp(-((h * f0 - 800) / 600) ** 2) for h in range(1, 15))
    sung = (t >= cut1) & (t < cut2)
    audio = bed + 0.5 * voice / np.abs(voice).max() * sung + 0.003 * rng.normal(size=n)
    audio = 0.9 * audio / np.abs(audio).max()
    stereo = np.stack([audio, 0.95 * audio], axis=1).astype(np.float32)
    segments = [(0.0, cut1, "nosing"), (cut1, cut2, "sing"), (cut2, seconds, "nosing")]
    return stereo, segments


def _ogg_crc(data: bytes) -> int:
    """Ogg's page checksum: CRC-32, polynomial 0x04C11DB7, no reflection, initial value 0."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _fixed_serial(ogg: bytes, serial: int) -> bytes:
    """``ogg`` with every page's stream serial number set to ``serial`` (libsndfile draws a
    random one) and the page checksums recomputed: the same audio gives the same bytes."""
    out, pos = bytearray(), 0
    while pos < len(ogg):
        if ogg[pos:pos + 4] != b"OggS":
            raise ValueError(f"no Ogg page at byte {pos}")
        n_segments = ogg[pos + 26]
        body = sum(ogg[pos + 27:pos + 27 + n_segments])
        page = bytearray(ogg[pos:pos + 27 + n_segments + body])
        page[14:18] = struct.pack("<I", serial)
        page[22:26] = b"\0\0\0\0"
        page[22:26] = struct.pack("<I", _ogg_crc(bytes(page)))
        out += page
        pos += len(page)
    return bytes(out)


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for folder in ("jamendo/", "jamendo/audio/", "jamendo/labels/", "jamendo/filelists/"):
            archive.writestr(zipfile.ZipInfo(folder, date_time=(2019, 3, 14, 0, 0, 0)), b"")
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2019, 3, 14, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def write_jamendo(zenodo: Path) -> tuple[Path, Path]:
    """The Zenodo archive and the record JSON; returns their paths."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    members: dict[str, bytes] = {}
    number = 0
    for split, count in JAMENDO_SPLITS.items():
        names = []
        for _ in range(count):
            number += 1
            stem = f"{number:02d} - Smoke Song {number}"
            audio, segments = _song(rng, SONG_SECONDS)
            ogg = io.BytesIO()
            sf.write(ogg, audio, RATE, format="OGG", subtype="VORBIS")
            members[f"jamendo/audio/{stem}.ogg"] = _fixed_serial(ogg.getvalue(), serial=number)
            members[f"jamendo/labels/{stem}.lab"] = "".join(
                f"{start:g} {end:g} {tag}\n" for start, end, tag in segments).encode()
            names.append(f"{stem}.ogg")
        members[f"jamendo/filelists/{split}"] = "".join(f"{name}\n" for name in names).encode()
    archive = zenodo / "records" / str(RECORD_ID) / "files" / ARCHIVE
    archive.parent.mkdir(parents=True, exist_ok=True)
    archive.write_bytes(_zip_bytes(members))
    record = zenodo_record.write_record(zenodo, RECORD_ID, archive, "Jamendo Corpus for Singing Voice Detection (smoke-test stand-in)")
    return archive, record


def write_mirror(root: Path) -> dict:
    """Write the study's mirror under ``root/mirror/lossgrad``; return its part of the override."""
    mirror = Path(root).resolve() / "mirror" / "lossgrad"
    sums = write_mnist(mirror / "mnist")
    archive, record = write_jamendo(mirror / "zenodo")
    return {"lossgrad": {
        "mnist": {"paper": {"mirrors": [(mirror / "mnist").as_uri() + "/"], "md5": sums}},
        "svd": {"paper": {"archive_urls": [archive.as_uri()], "zenodo_record_api": record.as_uri()}},
    }}
