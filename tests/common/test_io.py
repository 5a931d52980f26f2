import os

import numpy as np
import pandas as pd
import pytest
import torch

from xairepro.common.errors import InputError
from xairepro.common.io import (
    atomic_path, load_arrays, load_torch, read_csv, read_json, read_provenance, save_arrays, save_torch,
    write_csv, write_json,
)


def test_arrays_round_trip_and_object_arrays_refused(tmp_path):
    path = tmp_path / "a.npz"
    save_arrays(path, x=np.arange(6).reshape(2, 3), y=np.array(1.5, dtype=np.float32))
    arrays = load_arrays(path, required=("x", "y"))
    np.testing.assert_array_equal(arrays["x"], np.arange(6).reshape(2, 3))
    with pytest.raises(TypeError, match="pickle"):
        save_arrays(tmp_path / "b.npz", x=np.array([{"a": 1}], dtype=object))


@pytest.mark.parametrize("content", [b"", b"not a zip at all", None], ids=["empty", "garbage", "truncated"])
def test_bad_npz_raises_input_error_naming_the_file(tmp_path, content):
    path = tmp_path / "bad.npz"
    if content is None:
        save_arrays(path, x=np.random.default_rng(0).normal(size=1000))
        content = path.read_bytes()[:200]
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_arrays(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("cut", [None, 100, 0], ids=["whole", "truncated", "empty"])
def test_npy_arrays_load_and_a_truncated_one_is_an_input_error(tmp_path, cut):
    path = tmp_path / "a.npy"
    np.save(path, np.arange(1000, dtype=np.float64))
    if cut is None:
        np.testing.assert_array_equal(load_arrays(path)["array"], np.arange(1000))
        return
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(InputError) as info:
        load_arrays(path)
    assert str(path) in str(info.value)


def test_npy_holding_objects_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "objects.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="objects.npy"):
        load_arrays(path)


def test_missing_array_is_reported(tmp_path):
    save_arrays(tmp_path / "a.npz", x=np.zeros(2))
    with pytest.raises(InputError, match="missing arrays"):
        load_arrays(tmp_path / "a.npz", required=("x", "labels"))


def test_torch_state_round_trip_is_weights_only(tmp_path):
    path = tmp_path / "w.pt"
    save_torch(path, {"w": torch.ones(2), "name": "net", "n": 3, "nested": {"h": [1.0, 2.0]}})
    state = load_torch(path)
    assert torch.equal(state["w"], torch.ones(2)) and state["name"] == "net" and state["nested"]["h"] == [1.0, 2.0]


def test_torch_load_refuses_arbitrary_objects(tmp_path):
    path = tmp_path / "evil.pt"

    class Payload:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    torch.save({"x": Payload()}, path)
    with pytest.raises(InputError, match=str(path)):
        load_torch(path)


def test_atomic_path_leaves_nothing_when_the_writer_fails(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_writes_get_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        write_json(tmp_path / "r.json", {"a": 1})
    finally:
        os.umask(umask)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o644


def test_csv_keeps_provenance_header(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(path, pd.DataFrame({"a": [1, 2]}), {"study": "lossgrad", "seed": "0"})
    assert read_provenance(path) == {"study": "lossgrad", "seed": "0"}
    assert read_csv(path, required=("a",))["a"].tolist() == [1, 2]
    with pytest.raises(InputError, match="missing columns"):
        read_csv(path, required=("b",))


def test_json_round_trip_and_bad_json(tmp_path):
    write_json(tmp_path / "r.json", {"b": 1, "a": [1, 2]})
    assert read_json(tmp_path / "r.json") == {"a": [1, 2], "b": 1}
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InputError, match="bad.json"):
        read_json(tmp_path / "bad.json")


def _damage_member(path, name):
    """Flip bytes in the middle of the compressed data of one member of a .npz (zip) file."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(f"{name}.npy")
    raw = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    raw[middle:middle + 64] = bytes(64)
    path.write_bytes(bytes(raw))


def test_a_damaged_member_names_the_file_and_the_array(tmp_path):
    path = tmp_path / "scores.npz"
    rng = np.random.default_rng(0)
    save_arrays(path, ok=np.zeros(3), scores=rng.normal(size=20_000))
    _damage_member(path, "scores")
    with pytest.raises(InputError) as info:
        load_arrays(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "'scores'" in message and "re-run the rule" in message
    assert "\n" not in message


@pytest.mark.parametrize("content", [np.random.default_rng(1).bytes(4096), b"\x80\x04K\x01."], ids=["random", "pickle"])
def test_no_numpy_pickle_hint_in_our_messages(tmp_path, content):
    path = tmp_path / "foreign.npz"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_arrays(path)
    assert str(path) in str(info.value) and "allow_pickle" not in str(info.value)


def test_no_hint_to_load_unsafely_in_our_messages(tmp_path):
    path = tmp_path / "objects.pt"
    torch.save({"x": np.arange(3)}, path)  # a numpy array needs the full unpickler
    with pytest.raises(InputError) as info:
        load_torch(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert "weights_only" not in message[len(str(path)):] and "can still be loaded" not in message
