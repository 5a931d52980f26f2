import gzip
import struct

import numpy as np
import pytest
import torch

from xairepro.common.download import gunzip
from xairepro.common.errors import InputError, XaiReproError
from xairepro.common.io import save_arrays
from xairepro.lossgrad.data import RAW_FILES, load_split, make_demo_digits, mnist_resources, read_mnist_raw


def write_idx(path, array):
    """An MNIST IDX file: magic (0, 0, dtype 0x08 = ubyte, ndim), big-endian dims, bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_mnist(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"train": (rng.integers(0, 256, (6, 28, 28)), np.array([0, 1, 2, 1, 0, 9])),
              "test": (rng.integers(0, 256, (4, 28, 28)), np.array([1, 0, 7, 1]))}
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, (split, kind) in RAW_FILES.items():
        write_idx(raw / name, arrays[split][0] if kind == "x" else arrays[split][1])
    return raw, arrays


def test_paper_loader_reads_idx_files(tiny_mnist):
    raw, arrays = tiny_mnist
    out = read_mnist_raw(raw)
    np.testing.assert_array_equal(out["train_x"], arrays["train"][0])
    np.testing.assert_array_equal(out["test_y"], arrays["test"][1])
    assert out["train_x"].dtype == np.uint8 and out["test_y"].dtype == np.int64
    np.testing.assert_allclose(out["mean"], arrays["train"][0].mean() / 255, rtol=1e-5)


def test_paper_loader_reads_gzipped_downloads_after_gunzip(tiny_mnist, tmp_path):
    raw, arrays = tiny_mnist
    unpacked = tmp_path / "unpacked"
    for name in RAW_FILES:
        (tmp_path / f"{name}.gz").write_bytes(gzip.compress((raw / name).read_bytes()))
        gunzip(tmp_path / f"{name}.gz", unpacked / name)
    np.testing.assert_array_equal(read_mnist_raw(unpacked)["test_x"], arrays["test"][0])


def test_truncated_or_missing_idx_file_names_the_file(tiny_mnist):
    raw, _ = tiny_mnist
    victim = raw / "t10k-images-idx3-ubyte"
    victim.write_bytes(victim.read_bytes()[:100])
    with pytest.raises(InputError, match="t10k-images-idx3-ubyte"):
        read_mnist_raw(raw)
    victim.unlink()
    with pytest.raises(InputError, match="t10k-images-idx3-ubyte: MNIST file not found"):
        read_mnist_raw(raw)


def test_download_table_comes_from_torchvision_with_md5_sums():
    table = mnist_resources()
    assert set(table) == {f"{name}.gz" for name in RAW_FILES}
    for entry in table.values():
        assert entry["checksum"].startswith("md5:") and len(entry["checksum"]) == 4 + 32
        assert all(url.endswith(".gz") for url in entry["urls"])


def test_download_table_takes_the_configured_mirrors_and_md5_sums():
    sums = {f"{name}.gz": f"{i:032x}" for i, name in enumerate(RAW_FILES)}
    table = mnist_resources(["file:///mirror/a/", "file:///mirror/b/"], sums)
    entry = table["t10k-labels-idx1-ubyte.gz"]
    assert entry["urls"] == ["file:///mirror/a/t10k-labels-idx1-ubyte.gz", "file:///mirror/b/t10k-labels-idx1-ubyte.gz"]
    assert entry["checksum"] == "md5:" + sums["t10k-labels-idx1-ubyte.gz"]
    del sums["train-images-idx3-ubyte.gz"]
    with pytest.raises(XaiReproError, match="no checksum for train-images-idx3-ubyte.gz"):
        mnist_resources(["file:///mirror/a/"], sums)


def test_demo_digits_look_like_mnist():
    data = make_demo_digits(seed=0, test_fraction=0.25)
    assert data["train_x"].shape[1:] == (28, 28) and data["train_x"].dtype == np.uint8
    assert len(data["train_y"]) + len(data["test_y"]) == 1797
    assert sorted(np.unique(data["test_y"])) == list(range(10))
    # MNIST layout: ink inside the central 20x20 box, a 4-pixel empty border
    assert data["train_x"][:, :4].max() == 0 and data["train_x"][:, -4:].max() == 0
    assert data["train_x"].max() > 200
    again = make_demo_digits(seed=0, test_fraction=0.25)
    np.testing.assert_array_equal(again["test_x"], data["test_x"])


def test_load_split_normalises_and_filters_classes(tmp_path):
    data = make_demo_digits(seed=0)
    save_arrays(tmp_path / "m.npz", **data)
    x, y = load_split(tmp_path / "m.npz", "train", num_classes=2)
    assert set(y.tolist()) == {0, 1} and x.shape[1:] == (1, 28, 28)
    full, _ = load_split(tmp_path / "m.npz", "train", num_classes=10)
    assert abs(full.mean().item()) < 1e-3 and abs(full.std().item() - 1) < 1e-2
    assert torch.isclose(x.min(), full.min())
