"""Paper-scale loaders of the labelfree study, on tiny files the tests write: ECG5000's
ARFF zip (read in memory, content-checked) and the CIFAR binary archives (safely
extracted, raw records, no pickle)."""

import io
import tarfile
import zipfile

import numpy as np
import pytest

from xairepro.common.download import download, safe_extract
from xairepro.common.errors import InputError
from xairepro.labelfree.data import (
    CIFAR, ECG5000_CLASS_COUNTS, cifar_arrays, parse_arff, read_cifar_binary, read_ecg5000, verify_ecg5000,
)


def arff(rows: np.ndarray, labels: np.ndarray) -> str:
    header = "% ECG5000\n@relation ECG5000\n" + "".join(f"@attribute att{i} numeric\n" for i in range(rows.shape[1]))
    body = "\n".join(",".join(f"{v:.6f}" for v in row) + f",{label}" for row, label in zip(rows, labels))
    return header + "@attribute target {1,2,3,4,5}\n\n@data\n" + body + "\n"


def write_ecg_zip(path, train, test):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ECG5000_TRAIN.arff", arff(*train))
        zf.writestr("ECG5000_TEST.arff", arff(*test))
        zf.writestr("ECG5000_TRAIN.txt", "ignored")
    return path


def test_arff_rows_and_labels_are_parsed():
    rows = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    values, labels = parse_arff(arff(rows, np.array([1, 3, 5])), "x.arff")
    np.testing.assert_allclose(values, rows, atol=1e-6)
    assert labels.tolist() == [1, 3, 5]


def test_a_broken_arff_row_names_the_file_and_line():
    with pytest.raises(InputError, match=r"x\.arff.*line 5"):
        parse_arff("@relation r\n@attribute a numeric\n@data\n1.0,1\nnot-a-number,2\n", "x.arff")


def test_ecg5000_zip_train_and_test_are_concatenated(tmp_path):
    rng = np.random.default_rng(0)
    train = (rng.normal(size=(3, 140)).astype(np.float32), np.array([1, 2, 1]))
    test = (rng.normal(size=(2, 140)).astype(np.float32), np.array([4, 5]))
    data = read_ecg5000(write_ecg_zip(tmp_path / "ECG5000.zip", train, test))
    assert data["beats"].shape == (5, 140) and data["labels"].tolist() == [1, 2, 1, 4, 5]
    np.testing.assert_allclose(data["beats"][3], test[0][0], atol=1e-5)


def test_ecg5000_content_check_rejects_other_data(tmp_path):
    rng = np.random.default_rng(0)
    path = write_ecg_zip(tmp_path / "ECG5000.zip", (rng.normal(size=(3, 140)), np.array([1, 1, 2])),
                         (rng.normal(size=(1, 140)), np.array([1])))
    with pytest.raises(InputError, match="not ECG5000"):
        verify_ecg5000(path)


def test_ecg5000_content_check_accepts_the_class_counts(tmp_path):
    labels = np.repeat(list(ECG5000_CLASS_COUNTS), list(ECG5000_CLASS_COUNTS.values()))
    beats = np.zeros((len(labels), 140), dtype=np.float32)
    verify_ecg5000(write_ecg_zip(tmp_path / "ECG5000.zip", (beats[:500], labels[:500]), (beats[500:], labels[500:])))


def test_a_download_without_published_checksum_is_checked_by_content(tmp_path):
    rng = np.random.default_rng(0)
    source = write_ecg_zip(tmp_path / "upstream.zip", (rng.normal(size=(2, 140)), np.array([1, 2])),
                           (rng.normal(size=(1, 140)), np.array([1])))
    dest = tmp_path / "data" / "ECG5000.zip"
    with pytest.raises(Exception, match="could not download a verified copy"):
        download(source.as_uri(), dest, checksum=None, verify=verify_ecg5000, retries=1)
    assert not dest.exists()  # nothing partial left behind
    with pytest.raises(ValueError, match="needs a checksum or a content check"):
        download(source.as_uri(), dest, checksum=None)
    download(source.as_uri(), dest, checksum=None, verify=read_ecg5000, retries=1)
    assert dest.exists()


def cifar_records(images: np.ndarray, labels: np.ndarray, label_bytes: int) -> bytes:
    prefix = np.zeros((len(labels), label_bytes), dtype=np.uint8)
    prefix[:, -1] = labels
    return np.concatenate([prefix, images.reshape(len(labels), -1)], axis=1).tobytes()


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100"])
def test_cifar_binary_archive_round_trip(tmp_path, dataset):
    spec = CIFAR[dataset]
    rng = np.random.default_rng(1)
    archive = tmp_path / "archive.tar.gz"
    expected = {}
    with tarfile.open(archive, "w:gz") as tf:
        for split, count in (("train", 4), ("test", 3)):
            for name in spec[split]:
                images = rng.integers(0, 256, (count, 3, 32, 32), dtype=np.uint8)
                labels = rng.integers(0, 10, count).astype(np.uint8)
                expected.setdefault(split, []).append((images, labels))
                payload = cifar_records(images, labels, spec["label_bytes"])
                info = tarfile.TarInfo(f"{spec['folder']}/{name}")
                info.size = len(payload)
                tf.addfile(info, io.BytesIO(payload))
    safe_extract(archive, tmp_path / "out")
    arrays = cifar_arrays(tmp_path / "out", dataset)
    for split in ("train", "test"):
        images = np.concatenate([e[0] for e in expected[split]])
        labels = np.concatenate([e[1] for e in expected[split]])
        assert np.array_equal(arrays[f"{split}_x"], images) and arrays[f"{split}_x"].shape[1:] == (3, 32, 32)
        assert arrays[f"{split}_y"].tolist() == labels.tolist()


def test_a_truncated_cifar_file_names_the_file(tmp_path):
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(b"\x01" * 3000)
    with pytest.raises(InputError, match="data_batch_1.bin.*CIFAR records"):
        read_cifar_binary([path], 1)


def test_a_cifar_archive_escaping_its_folder_is_refused(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        info = tarfile.TarInfo("../escaped.bin")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"abc"))
    with pytest.raises(InputError, match="outside"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "escaped.bin").exists()
