import gzip
import hashlib
import io
import tarfile
import zipfile

import pytest

from xairepro.common import download as dl
from xairepro.common.errors import InputError, XaiReproError


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_download_verifies_and_falls_back_to_the_next_mirror(tmp_path):
    good = tmp_path / "good.bin"
    good.write_bytes(b"payload")
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"tampered")
    dest = tmp_path / "out" / "file.bin"
    dl.download([bad.as_uri(), good.as_uri()], dest, sha256(b"payload"), retries=1, backoff_s=0)
    assert dest.read_bytes() == b"payload"


def test_checksum_mismatch_everywhere_leaves_no_file(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"tampered")
    dest = tmp_path / "file.bin"
    with pytest.raises(XaiReproError, match="could not download a verified copy"):
        dl.download(src.as_uri(), dest, sha256(b"payload"), retries=2, backoff_s=0)
    assert not dest.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["src.bin"]


def test_transient_failures_are_retried(tmp_path, monkeypatch):
    src = tmp_path / "src.bin"
    src.write_bytes(b"payload")
    real = dl.urllib.request.urlopen
    calls = []

    def flaky(url, timeout):
        calls.append(url)
        if len(calls) < 3:
            raise dl.urllib.error.URLError("connection reset")
        return real(url, timeout=timeout)

    monkeypatch.setattr(dl.urllib.request, "urlopen", flaky)
    dl.download(src.as_uri(), tmp_path / "f.bin", sha256(b"payload"), retries=3, backoff_s=0)
    assert len(calls) == 3


def test_a_file_placed_by_hand_is_accepted_only_with_the_right_checksum(tmp_path):
    dest = tmp_path / "manual.bin"
    dest.write_bytes(b"payload")
    dl.download("http://127.0.0.1:9/never-contacted", dest, sha256(b"payload"))
    dest.write_bytes(b"other")
    with pytest.raises(InputError, match="checksum mismatch"):
        dl.download("http://127.0.0.1:9/never-contacted", dest, sha256(b"payload"))


def test_gunzip_round_trip_and_corrupt_gzip(tmp_path):
    (tmp_path / "a.gz").write_bytes(gzip.compress(b"hello"))
    assert dl.gunzip(tmp_path / "a.gz", tmp_path / "a").read_bytes() == b"hello"
    (tmp_path / "b.gz").write_bytes(gzip.compress(b"hello" * 100)[:20])
    with pytest.raises(InputError, match="b.gz"):
        dl.gunzip(tmp_path / "b.gz", tmp_path / "b")
    assert not (tmp_path / "b").exists()


# "a/../b.txt" stays inside the destination once resolved: refused all the same, as the
# docstring promises (a ".." member is a sign of a crafted archive)
@pytest.mark.parametrize("member", ["../escape.txt", "/abs/escape.txt", "a/../../escape.txt", "a/../b.txt",
                                    "C:/escape.txt"])
def test_zip_with_escaping_path_is_refused_before_writing(tmp_path, member):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("fine.txt", "ok")
        zf.writestr(member, "gotcha")
    out = tmp_path / "out"
    with pytest.raises(InputError, match="evil.zip"):
        dl.safe_extract(archive, out)
    assert not (tmp_path / "escape.txt").exists()
    assert not (out / "fine.txt").exists()  # nothing written: members are all checked first


def test_tar_with_escaping_path_or_link_is_refused(tmp_path):
    for name, kind in (("../escape.txt", tarfile.REGTYPE), ("a/../b.txt", tarfile.REGTYPE),
                       ("link", tarfile.SYMTYPE)):
        archive = tmp_path / "evil.tar"
        with tarfile.open(archive, "w") as tf:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.SYMTYPE:
                info.linkname = "/etc/passwd"
                tf.addfile(info)
            else:
                info.size = 6
                tf.addfile(info, io.BytesIO(b"gotcha"))
        with pytest.raises(InputError, match="evil.tar"):
            dl.safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "out" / "b.txt").exists()


def test_safe_extract_writes_regular_members(tmp_path):
    archive = tmp_path / "ok.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        info = tarfile.TarInfo("data/labels/a.lab")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"abc"))
    written = dl.safe_extract(archive, tmp_path / "out")
    assert [p.read_bytes() for p in written] == [b"abc"]
    assert (tmp_path / "out" / "data" / "labels" / "a.lab").exists()
