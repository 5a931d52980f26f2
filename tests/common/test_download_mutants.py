"""Tests written to kill the surviving mutants of xairepro.common.download (issue 24).

Checksums of every accepted algorithm and their exact errors, the retry schedule in closed
form, the logged sha256 of an unpinned file, the zip path that the refusal tests never
reach, extraction into folders that do (and do not) exist yet, a symlink inside the
destination that points out of it, and the Zenodo record look-up against an in-memory record.
"""

import hashlib
import io
import json
import logging
import tarfile
import zipfile

import pytest

from xairepro.common import download as dl
from xairepro.common.errors import InputError, XaiReproError

PAYLOAD = b"payload\n" * 1000


def digest(algorithm: str, data: bytes = PAYLOAD) -> str:
    return hashlib.new(algorithm, data).hexdigest()


@pytest.fixture
def payload(tmp_path):
    path = tmp_path / "payload.bin"
    path.write_bytes(PAYLOAD)
    return path


# --------------------------------------------------------------------------- checksums
def test_file_digest_defaults_to_sha256_and_takes_other_algorithms(payload):
    assert dl.file_digest(payload) == digest("sha256")
    assert dl.file_digest(payload, "md5") == digest("md5")


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256"])
def test_every_documented_algorithm_is_accepted(payload, algorithm):
    dl.verify_checksum(payload, f"{algorithm}:{digest(algorithm)}")
    dl.verify_checksum(payload, f"{algorithm}:{digest(algorithm).upper()}")  # hex case is free


@pytest.mark.parametrize("algorithm", ["md5", "sha1"])
def test_a_non_sha256_checksum_is_compared_with_its_own_algorithm(payload, algorithm):
    # the sha256 of the file under an md5/sha1 label must not pass
    with pytest.raises(InputError, match="checksum mismatch"):
        dl.verify_checksum(payload, f"{algorithm}:{digest('sha256')}")


@pytest.mark.parametrize("checksum", ["sha256:", "md5:", "crc32:abcd", "deadbeef", ""])
def test_a_malformed_checksum_is_a_value_error_naming_it(payload, checksum):
    with pytest.raises(ValueError, match=r"must look like 'sha256:<hex>' or 'md5:<hex>'") as info:
        dl.verify_checksum(payload, checksum)
    assert repr(checksum) in str(info.value)


def test_a_mismatch_names_the_file_both_digests_and_the_fix(payload):
    wrong = "0" * 64
    with pytest.raises(InputError) as info:
        dl.verify_checksum(payload, f"sha256:{wrong}")
    assert info.value.path == payload
    assert str(info.value) == (
        f"{payload}: sha256 checksum mismatch: expected {wrong}, got {digest('sha256')} "
        "(the download is corrupt or the upstream file changed; delete it and re-run)"
    )


# --------------------------------------------------------------------------- download
class Unreachable:
    """A stand-in for urlopen that records its calls and always fails."""

    def __init__(self):
        self.calls = []

    def __call__(self, url, timeout):
        self.calls.append((url, timeout))
        raise dl.urllib.error.URLError(f"no route to {url}")


@pytest.fixture
def sleeps(monkeypatch):
    waited = []
    monkeypatch.setattr(dl.time, "sleep", waited.append)
    return waited


def test_defaults_three_attempts_doubling_backoff_and_a_60_s_timeout(tmp_path, monkeypatch, sleeps):
    fake = Unreachable()
    monkeypatch.setattr(dl.urllib.request, "urlopen", fake)
    with pytest.raises(XaiReproError, match="after 3 attempts"):
        dl.download("http://mirror.invalid/f", tmp_path / "f.bin", "sha256:" + "0" * 64)
    assert fake.calls == [("http://mirror.invalid/f", 60.0)] * 3
    assert sleeps == [2.0, 4.0]  # backoff_s * 2**attempt, none after the last attempt


@pytest.mark.parametrize("retries,expected", [(1, []), (2, [0.5]), (4, [0.5, 1.0, 2.0])])
def test_backoff_doubles_between_attempts_only(tmp_path, monkeypatch, sleeps, retries, expected):
    monkeypatch.setattr(dl.urllib.request, "urlopen", Unreachable())
    with pytest.raises(XaiReproError):
        dl.download("http://mirror.invalid/f", tmp_path / "f.bin", "md5:00", retries=retries, backoff_s=0.5)
    assert sleeps == expected


def test_the_timeout_is_passed_to_urlopen(tmp_path, monkeypatch, sleeps):
    fake = Unreachable()
    monkeypatch.setattr(dl.urllib.request, "urlopen", fake)
    with pytest.raises(XaiReproError):
        dl.download("http://mirror.invalid/f", tmp_path / "f.bin", "md5:00", retries=1, timeout_s=7.5)
    assert fake.calls == [("http://mirror.invalid/f", 7.5)]


def test_the_final_error_lists_each_mirror_of_the_last_attempt(tmp_path, monkeypatch, sleeps):
    monkeypatch.setattr(dl.urllib.request, "urlopen", Unreachable())
    dest = tmp_path / "f.bin"
    with pytest.raises(XaiReproError) as info:
        dl.download(["http://a.invalid/f", "http://b.invalid/f"], dest, "md5:00", retries=3, backoff_s=0)
    assert str(info.value) == (
        f"{dest}: could not download a verified copy after 3 attempts "
        "(http://a.invalid/f: <urlopen error no route to http://a.invalid/f>; "
        "http://b.invalid/f: <urlopen error no route to http://b.invalid/f>). "
        "Place the file there by hand to continue."
    )


def test_the_final_error_of_one_mirror_and_one_attempt_names_its_failure(tmp_path, payload, sleeps):
    dest = tmp_path / "f.bin"
    with pytest.raises(XaiReproError) as info:
        dl.download(payload.as_uri(), dest, "md5:" + "0" * 32, retries=1)
    message = str(info.value)
    assert f"({payload.as_uri()}: " in message and "md5 checksum mismatch" in message
    assert message.count("checksum mismatch") == 1


def test_neither_checksum_nor_content_check_is_refused(tmp_path, monkeypatch, sleeps):
    monkeypatch.setattr(dl.urllib.request, "urlopen", Unreachable())
    dest = tmp_path / "f.bin"
    with pytest.raises(ValueError) as info:
        dl.download("http://mirror.invalid/f", dest, None)
    assert str(info.value) == f"{dest}: a download needs a checksum or a content check"


def test_without_a_checksum_the_content_check_decides_and_the_sha256_is_logged(tmp_path, payload, caplog):
    seen = []

    def verify(path):
        seen.append(path.read_bytes())

    dest = tmp_path / "out" / "f.bin"
    with caplog.at_level(logging.INFO, logger=dl.__name__):
        assert dl.download(payload.as_uri(), dest, None, verify=verify) == dest
    assert seen == [PAYLOAD]  # run on the downloaded copy, before the rename
    assert dest.read_bytes() == PAYLOAD
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert messages == [f"{dest}: no published checksum; its sha256 is {digest('sha256')} (pin it in the config)"]


def test_a_failing_content_check_is_a_failed_attempt(tmp_path, payload, sleeps):
    def verify(path):
        raise InputError(path, "not a wav file")

    dest = tmp_path / "f.bin"
    with pytest.raises(XaiReproError, match="not a wav file"):
        dl.download(payload.as_uri(), dest, None, verify=verify, retries=2, backoff_s=0)
    assert not dest.exists()


def test_download_logs_each_attempt_and_each_failure(tmp_path, sleeps, caplog):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"tampered")
    missing = (tmp_path / "missing.bin").as_uri()  # a URLError without the network
    dest = tmp_path / "f.bin"
    with caplog.at_level(logging.INFO, logger=dl.__name__):
        with pytest.raises(XaiReproError):
            dl.download([bad.as_uri(), missing], dest, f"sha256:{digest('sha256')}", retries=2,
                        backoff_s=0)
    messages = [r.getMessage() for r in caplog.records]
    assert messages[:2] == [f"downloading {bad.as_uri()} (attempt 1/2)", "f.bin from " + bad.as_uri()
                            + " failed verification"]
    assert messages[2] == f"downloading {missing} (attempt 1/2)"
    assert messages[3].startswith(f"download of {missing} failed: <urlopen error [Errno 2] No such file")
    assert messages[4] == f"downloading {bad.as_uri()} (attempt 2/2)"


def test_a_present_file_is_logged_as_verified(tmp_path, payload, caplog):
    with caplog.at_level(logging.INFO, logger=dl.__name__):
        dl.download("http://mirror.invalid/never", payload, f"md5:{digest('md5')}")
    assert [r.getMessage() for r in caplog.records] == [f"{payload} already present and verified"]


# --------------------------------------------------------------------------- gunzip
def test_a_corrupt_gzip_says_so(tmp_path):
    (tmp_path / "b.gz").write_bytes(b"not gzip at all")
    with pytest.raises(InputError) as info:
        dl.gunzip(tmp_path / "b.gz", tmp_path / "b")
    assert info.value.path == tmp_path / "b.gz"
    assert str(info.value).startswith(f"{tmp_path / 'b.gz'}: not a readable gzip file (")


# --------------------------------------------------------------------------- extraction
def make_zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def make_tar(path, members):
    with tarfile.open(path, "w") as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
            else:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path


# a directory entry before its files, two files in one folder, a directory entry whose
# parent has no entry, and a file two folders deep with no directory entries at all
TREE = [("d/", None), ("d/x.txt", b"x"), ("d/y.txt", b"yy"), ("p/q/", None), ("e/f/g.txt", b"ggg")]


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_extraction_of_a_tree_is_complete_and_repeatable(tmp_path, kind):
    if kind == "zip":
        archive = make_zip(tmp_path / "ok.zip", [(n, d if d is not None else b"") for n, d in TREE])
    else:
        archive = make_tar(tmp_path / "ok.tar", [(n.rstrip("/"), d) for n, d in TREE])
    out = tmp_path / "not" / "yet" / "there"
    for _ in range(2):  # the second run finds every folder present already
        written = dl.safe_extract(archive, out)
        root = out.resolve()
        assert written == [root / "d" / "x.txt", root / "d" / "y.txt", root / "e" / "f" / "g.txt"]
        assert [p.read_bytes() for p in written] == [b"x", b"yy", b"ggg"]
        assert (out / "p" / "q").is_dir()
        assert sorted(p.name for p in out.rglob("*")) == ["d", "e", "f", "g.txt", "p", "q", "x.txt", "y.txt"]


def test_backslashes_in_member_names_are_folder_separators(tmp_path):
    archive = make_zip(tmp_path / "win.zip", [("dir\\file.txt", b"data")])
    written = dl.safe_extract(archive, tmp_path / "out")
    assert written == [(tmp_path / "out").resolve() / "dir" / "file.txt"]
    assert written[0].read_bytes() == b"data"


@pytest.mark.parametrize("member", ["..\\escape.txt", "a\\..\\..\\escape.txt", "C:\\escape.txt"])
def test_a_backslash_escape_is_refused(tmp_path, member):
    archive = make_zip(tmp_path / "evil.zip", [(member, b"gotcha")])
    with pytest.raises(InputError) as info:
        dl.safe_extract(archive, tmp_path / "out")
    assert info.value.path == archive
    assert str(info.value) == (
        f"{archive}: archive member {member!r} would be written outside {(tmp_path / 'out').resolve()}; "
        "refusing to extract"
    )
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_a_symlink_in_the_destination_cannot_carry_a_member_out(tmp_path, kind):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "link").symlink_to(outside, target_is_directory=True)
    members = [("link/evil.txt", b"gotcha")]
    archive = make_zip(tmp_path / "a.zip", members) if kind == "zip" else make_tar(tmp_path / "a.tar", members)
    with pytest.raises(InputError) as info:
        dl.safe_extract(archive, out)
    assert info.value.path == archive
    assert str(info.value) == (
        f"{archive}: archive member 'link/evil.txt' resolves outside {out.resolve()}; refusing to extract"
    )
    assert list(outside.iterdir()) == []


def test_a_tar_link_is_refused_by_name(tmp_path):
    archive = tmp_path / "link.tar"
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo("data/link")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../etc/passwd"
        tf.addfile(info)
    with pytest.raises(InputError) as info:
        dl.safe_extract(archive, tmp_path / "out")
    assert info.value.path == archive
    assert str(info.value) == f"{archive}: archive member 'data/link' is a link or device; refusing to extract"


def test_neither_zip_nor_tar_is_an_input_error_naming_the_file(tmp_path):
    archive = tmp_path / "notes.txt"
    archive.write_text("just text, no archive\n" * 50)
    with pytest.raises(InputError) as info:
        dl.safe_extract(archive, tmp_path / "out")
    assert info.value.path == archive
    assert str(info.value).startswith(f"{archive}: neither a zip nor a tar archive (")


# --------------------------------------------------------------------------- zenodo
def serve(monkeypatch, record):
    calls = []

    def urlopen(url, timeout):
        calls.append((url, timeout))
        return io.BytesIO(json.dumps(record).encode())

    monkeypatch.setattr(dl.urllib.request, "urlopen", urlopen)
    return calls


API = "https://zenodo.org/api/records/123"
RECORD = {"files": [{"key": "other.zip", "checksum": "md5:" + "1" * 32},
                    {"key": "data.zip", "checksum": "md5:" + "a" * 32}]}


def test_zenodo_checksum_picks_the_named_file(monkeypatch):
    calls = serve(monkeypatch, RECORD)
    assert dl.zenodo_checksum(API, "data.zip") == "md5:" + "a" * 32
    assert dl.zenodo_checksum(API, "other.zip", timeout_s=5) == "md5:" + "1" * 32
    assert calls == [(API, 60.0), (API, 5)]


@pytest.mark.parametrize("entry,shown", [({"key": "data.zip"}, "''"),
                                         ({"key": "data.zip", "checksum": "MD5:ABC"}, "'MD5:ABC'"),
                                         ({"key": "data.zip", "checksum": "md5:xyz"}, "'md5:xyz'"),
                                         ({"key": "data.zip", "checksum": "md5:ab "}, "'md5:ab '")])
def test_zenodo_checksum_refuses_an_unusable_checksum(monkeypatch, entry, shown):
    serve(monkeypatch, {"files": [entry]})
    with pytest.raises(ValueError) as info:
        dl.zenodo_checksum(API, "data.zip")
    assert str(info.value) == f"{API}: unusable checksum {shown} for data.zip"


@pytest.mark.parametrize("record", [{}, {"files": []}, {"files": [{"key": "other.zip", "checksum": "md5:ab"}]}])
def test_zenodo_checksum_of_a_missing_file(monkeypatch, record):
    serve(monkeypatch, record)
    with pytest.raises(ValueError) as info:
        dl.zenodo_checksum(API, "data.zip")
    assert str(info.value) == f"{API}: the record has no file named 'data.zip'"


@pytest.mark.parametrize("checksum", ["md5:0123abcd:junk", "sha256:not-hex", "sha256:"])
def test_a_malformed_checksum_is_a_config_error_not_a_corrupt_download(tmp_path, checksum):
    """A checksum whose digest is not hex is the config's fault: ValueError naming the
    expected form, never an InputError telling the user the file is corrupt."""
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")
    with pytest.raises(ValueError, match="must look like 'sha256:<hex>'"):
        dl.verify_checksum(path, checksum)
