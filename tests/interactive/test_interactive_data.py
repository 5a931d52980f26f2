"""Demo data with planted attributes, the paper layouts' loaders, and bad inputs."""

import io
import tarfile
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import io as sio

from xairepro.common.errors import InputError, XaiReproError
from xairepro.interactive import data as D


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    root = tmp_path_factory.mktemp("celeb")
    frame = D.generate_faces(root, root / "regions.npz", n_images=24, size=64, seed=3)
    return root, frame


def test_faces_follow_the_celebamask_hq_layout(faces):
    root, frame = faces
    lines = (root / D.CELEB_ANNO).read_text().splitlines()
    assert lines[0] == "24" and lines[1].split() == list(D.CELEB_ATTRIBUTES)
    assert lines[2].split()[0] == "0.jpg" and len(lines[2].split()) == 41
    table = D.read_celeb_annotations(root)
    assert list(table.index[:2]) == ["0.jpg", "1.jpg"]
    assert set(np.unique(table.to_numpy())) <= {0.0, 1.0}
    assert (table["Bald"] == 0).all()  # unplanted attributes are -1 in the file
    for attr in D.PLANTED_ATTRIBUTES:
        assert 0 < table[attr].mean() < 1
    assert D.check_celeb_layout(root) == 24


def test_each_planted_attribute_changes_only_its_region():
    """Flipping one attribute with the same random stream changes pixels inside its region only."""
    base = {a: 0 for a in D.PLANTED_ATTRIBUTES}
    for attr in D.PLANTED_ATTRIBUTES:
        img0, reg0 = D.draw_face(np.random.default_rng(7), base, 64)
        img1, reg1 = D.draw_face(np.random.default_rng(7), {**base, attr: 1}, 64)
        changed = np.abs(img0 - img1).max(axis=2) > 0.05
        region = reg0[attr] | reg1[attr]
        assert changed.sum() > 10, attr
        assert not (changed & ~region).any(), attr
        assert region.mean() < 0.5, attr


def test_flower_pairs_differ_only_in_their_region():
    for a, b in ((49, 65), (63, 54)):
        img_a, reg_a = D.draw_flower(np.random.default_rng(5), a, 64)
        img_b, reg_b = D.draw_flower(np.random.default_rng(5), b, 64)
        changed = np.abs(img_a - img_b).max(axis=2) > 0.05
        assert changed.sum() > 20
        assert not (changed & ~(reg_a | reg_b)).any()


def test_celeb_split_is_the_originals(faces):
    root, _ = faces
    labels = D.read_celeb_annotations(root)["Smiling"]
    expected = labels.sample(frac=1, random_state=42)
    train, valid = D.celeb_split(labels, "train"), D.celeb_split(labels, "valid")
    assert list(train.index) == list(expected.index[:18]) and list(valid.index) == list(expected.index[18:])
    loaded = D.load_celeb_attribute(root, "Smiling", 32)
    assert loaded["x_train"].shape == (18, 32, 32, 3) and loaded["x_train"].dtype == np.uint8
    np.testing.assert_array_equal(loaded["y_valid"], valid.to_numpy())


def test_flowers_layout_and_pair_loader(tmp_path):
    D.generate_flowers(tmp_path, tmp_path / "regions.npz", n_per_class=4, size=32, seed=0)
    labels = sio.loadmat(tmp_path / D.FLOWERS_LABELS)["labels"]
    assert labels.shape == (1, 16) and sorted(set(labels.ravel())) == [49, 54, 63, 65]
    pair = D.load_flowers_pair(tmp_path, 63, 54, size=32, split_seed=0)
    assert len(pair["x_train"]) == 6 and len(pair["x_valid"]) == 2
    names = np.concatenate([pair["names_train"], pair["names_valid"]])
    y = np.concatenate([pair["y_train"], pair["y_valid"]])
    by_name = {f"image_{i + 1:05d}.jpg": lab for i, lab in enumerate(labels.ravel())}
    assert all((by_name[n] == 54) == bool(t) for n, t in zip(names, y))
    regions = D.load_regions(tmp_path / "regions.npz", pair["names_valid"])
    assert regions.shape == (2, 32, 32) and regions.any()


def test_flowers_transform_pads_crops_and_resizes(tmp_path):
    path = tmp_path / "wide.jpg"
    Image.fromarray(np.full((50, 80, 3), 200, np.uint8)).save(path)
    out = D.read_image(path, 16, pad=10, crop_ratio=1.8)
    assert out.shape == (16, 16, 3) and abs(int(out.mean()) - 200) <= 2


def test_an_image_file_that_is_not_an_image_names_the_file(tmp_path):
    bad = tmp_path / "CelebA-HQ-img" / "0.jpg"
    bad.parent.mkdir()
    bad.write_text("this is not a jpeg")
    with pytest.raises(InputError, match="0.jpg: not a readable image"):
        D.read_image(bad, 32)


def test_bad_annotation_and_label_files_raise_input_errors(tmp_path):
    (tmp_path / D.CELEB_ANNO).write_text("2\nSmiling Male\n0.jpg 1 0\n1.jpg -1 1\n")
    with pytest.raises(InputError, match="-1 or 1"):
        D.read_celeb_annotations(tmp_path)
    (tmp_path / D.FLOWERS_LABELS).write_bytes(b"garbage, not MATLAB")
    with pytest.raises(InputError, match="imagelabels.mat"):
        D.read_flower_labels(tmp_path)


def _celeb_zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _jpg_bytes():
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


def test_hand_placed_celebamask_archive_is_verified_and_extracted(tmp_path):
    archive = tmp_path / "CelebAMask-HQ.zip"
    anno = "2\n" + " ".join(D.CELEB_ATTRIBUTES) + "\n" + "\n".join(
        f"{i}.jpg " + " ".join(["1"] * 40) for i in range(2)) + "\n"
    _celeb_zip(archive, {"CelebAMask-HQ/CelebAMask-HQ-attribute-anno.txt": anno,
                         "CelebAMask-HQ/CelebA-HQ-img/0.jpg": _jpg_bytes(),
                         "CelebAMask-HQ/CelebA-HQ-img/1.jpg": _jpg_bytes(),
                         "CelebAMask-HQ/README.txt": "x"})
    dest = tmp_path / "celebamask_hq"
    assert D.extract_celebamask_hq(archive, dest) == 2
    assert (dest / "CelebA-HQ-img" / "1.jpg").is_file() and (dest / D.CELEB_ANNO).is_file()
    from xairepro.common.download import file_digest

    with pytest.raises(InputError, match="checksum mismatch"):
        D.extract_celebamask_hq(archive, tmp_path / "again", "0" * 64)
    assert D.extract_celebamask_hq(archive, tmp_path / "third", file_digest(archive)) == 2


def test_missing_celebamask_archive_says_where_to_put_it(tmp_path):
    with pytest.raises(XaiReproError, match="place it at .*CelebAMask-HQ.zip"):
        D.extract_celebamask_hq(tmp_path / "CelebAMask-HQ.zip", tmp_path / "out")


def test_celebamask_archive_escaping_its_folder_is_refused(tmp_path):
    archive = tmp_path / "CelebAMask-HQ.zip"
    _celeb_zip(archive, {"CelebAMask-HQ/CelebAMask-HQ-attribute-anno.txt": "1\nSmiling\n0.jpg 1\n",
                         "../evil.txt": "x"})
    with pytest.raises(InputError, match="outside"):
        D.extract_celebamask_hq(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


def test_archive_without_the_attribute_file_is_refused(tmp_path):
    archive = tmp_path / "CelebAMask-HQ.zip"
    _celeb_zip(archive, {"CelebAMask-HQ/CelebA-HQ-img/0.jpg": _jpg_bytes()})
    with pytest.raises(InputError, match="no CelebAMask-HQ-attribute-anno.txt"):
        D.extract_celebamask_hq(archive, tmp_path / "out")


def test_flowers_archive_extracts_beside_its_labels(tmp_path):
    archive = tmp_path / "102flowers.tgz"
    with tarfile.open(archive, "w:gz") as tf:
        for i in range(3):
            data = _jpg_bytes()
            info = tarfile.TarInfo(f"jpg/image_{i + 1:05d}.jpg")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    labels = tmp_path / "imagelabels.mat"
    sio.savemat(labels, {"labels": np.array([[49, 65, 49]], np.uint8)})
    dest = tmp_path / "flowers102"
    assert D.extract_flowers(archive, labels, dest) == 3
    pair = D.load_flowers_pair(dest, 49, 65, size=8, split_seed=0, ratio=0.67)
    assert len(pair["x_train"]) + len(pair["x_valid"]) == 3


def test_flowers_archive_escaping_its_folder_is_refused(tmp_path):
    archive = tmp_path / "102flowers.tgz"
    with tarfile.open(archive, "w:gz") as tf:
        info = tarfile.TarInfo("../../escape.jpg")
        info.size = 1
        tf.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(InputError, match="outside"):
        D.extract_flowers(archive, tmp_path / "labels.mat", tmp_path / "out")


def test_pandas_split_matches_the_original_code_path():
    """The original reads with read_csv(sep='\\s+', skiprows=1) and maps (x + 1) / 2."""
    text = "3\nSmiling Young\n0.jpg 1 -1\n1.jpg -1 -1\n2.jpg 1 1\n"
    frame = (pd.read_csv(io.StringIO(text), sep=r"\s+", skiprows=1) + 1) / 2
    assert list(frame.index) == ["0.jpg", "1.jpg", "2.jpg"] and list(frame["Smiling"]) == [1.0, 0.0, 1.0]


def test_a_corrupt_image_stops_training_before_any_output(tmp_path):
    from xairepro.interactive.train import train_classifier

    root = tmp_path / "celeb"
    D.generate_faces(root, root / "regions.npz", n_images=8, size=32, seed=0)
    (root / D.CELEB_IMG_DIR / "3.jpg").write_bytes(b"\x00\x01 not an image")
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"3\.jpg: not a readable image"):
        train_classifier(root, "celeb-Smiling", root / D.CELEB_ANNO, out / "m.pt", out / "m.json", out / "ck.pt",
                         size=32, freeze_epochs=0, unfreeze_epochs=1, bs=4, lr=3e-4, ratio=0.75, split_seed=42,
                         imagenet_weights=False)
    assert not out.exists() or not any(out.iterdir())
