"""Checksummed downloads with retries, and archive extraction that cannot escape its folder.

Used only by paper-scale rules; the demo never touches the network. A file placed by hand
at the destination (for data behind a login) is accepted when its checksum matches.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
import shutil
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath

from xairepro.common.errors import InputError, XaiReproError
from xairepro.common.io import atomic_path

log = logging.getLogger(__name__)

CHUNK = 1 << 20


def file_digest(path: str | Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: str | Path, checksum: str) -> None:
    """Raise :class:`InputError` unless ``path`` matches ``checksum`` (``"md5:…"``/``"sha256:…"``)."""
    algorithm, _, expected = checksum.partition(":")
    if algorithm not in {"md5", "sha1", "sha256"} or not re.fullmatch(r"[0-9a-fA-F]+", expected):
        raise ValueError(f"checksum {checksum!r} must look like 'sha256:<hex>' or 'md5:<hex>'")
    actual = file_digest(path, algorithm)
    if actual != expected.lower():
        raise InputError(
            path,
            f"{algorithm} checksum mismatch: expected {expected}, got {actual}",
            "the download is corrupt or the upstream file changed; delete it and re-run",
        )


def download(
    urls: str | Sequence[str],
    dest: str | Path,
    checksum: str | None,
    retries: int = 3,
    backoff_s: float = 2.0,
    timeout_s: float = 60.0,
    verify: Callable[[Path], None] | None = None,
) -> Path:
    """Fetch ``dest`` from the first mirror that answers, verify it, and rename it into place.

    Parameters
    ----------
    urls
        One URL or several mirrors, tried in order on every attempt.
    dest
        Final path. If it already exists with the right checksum (e.g. placed by hand),
        nothing is downloaded.
    checksum
        ``"md5:<hex>"`` or ``"sha256:<hex>"``. ``None`` only together with ``verify``, for
        files whose publisher gives no checksum: then the content check decides, and the
        file's sha256 is logged so that users can pin it.
    verify
        A content check run on the downloaded file before it is renamed into place; it
        raises :class:`InputError` for a bad file (which counts as a failed attempt).
    retries
        Attempts per mirror; transient errors wait ``backoff_s * 2**attempt`` seconds.
    """
    if checksum is None and verify is None:
        raise ValueError(f"{dest}: a download needs a checksum or a content check")
    dest = Path(dest)

    def check(path: Path) -> None:
        if checksum is not None:
            verify_checksum(path, checksum)
        else:
            log.warning("%s: no published checksum; its sha256 is %s (pin it in the config)", dest,
                        file_digest(path))
        if verify is not None:
            verify(path)

    if dest.exists():
        check(dest)
        log.info("%s already present and verified", dest)
        return dest
    mirrors = [urls] if isinstance(urls, str) else list(urls)
    errors: list[str] = []
    for attempt in range(retries):
        for url in mirrors:
            try:
                with atomic_path(dest) as tmp:
                    log.info("downloading %s (attempt %d/%d)", url, attempt + 1, retries)
                    with urllib.request.urlopen(url, timeout=timeout_s) as response, open(tmp, "wb") as out:
                        shutil.copyfileobj(response, out, CHUNK)
                    check(tmp)
                return dest
            except InputError as exc:
                errors.append(f"{url}: {exc}")
                log.warning("%s from %s failed verification", dest.name, url)
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                errors.append(f"{url}: {exc}")
                log.warning("download of %s failed: %s", url, exc)
        if attempt + 1 < retries:
            time.sleep(backoff_s * 2**attempt)
    raise XaiReproError(
        f"{dest}: could not download a verified copy after {retries} attempts "
        f"({'; '.join(errors[-len(mirrors):])}). Place the file there by hand to continue."
    )


def gunzip(src: str | Path, dest: str | Path) -> Path:
    """Decompress a ``.gz`` file atomically; a corrupt stream is an :class:`InputError`."""
    try:
        with gzip.open(src, "rb") as raw, atomic_path(dest) as tmp, open(tmp, "wb") as out:
            shutil.copyfileobj(raw, out, CHUNK)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(src, f"not a readable gzip file ({exc})") from exc
    return Path(dest)


def _member_target(root: Path, name: str, archive: Path) -> Path:
    """Where an archive member may be written, or an error if it would leave ``root``."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]):
        raise InputError(archive, f"archive member {name!r} would be written outside {root}; refusing to extract")
    target = (root / pure).resolve()
    if target != root and root not in target.parents:
        raise InputError(archive, f"archive member {name!r} resolves outside {root}; refusing to extract")
    return target


def safe_extract(archive: str | Path, dest: str | Path) -> list[Path]:
    """Extract a zip or tar archive into ``dest``, refusing any member that escapes it.

    Every member is checked before anything is written: absolute paths, ``..`` components,
    links and device files in tar archives all stop the extraction with one error naming
    the archive. Returns the extracted regular files.
    """
    archive = Path(archive)
    root = Path(dest).resolve()
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            targets = [_member_target(root, m.filename, archive) for m in members]
            for member, target in zip(members, targets):
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, atomic_path(target) as tmp, open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out, CHUNK)
                written.append(target)
        return written
    try:
        tf = tarfile.open(archive)
    except (tarfile.TarError, OSError) as exc:
        raise InputError(archive, f"neither a zip nor a tar archive ({exc})") from exc
    with tf:
        members = tf.getmembers()
        for member in members:
            _member_target(root, member.name, archive)
            if not (member.isfile() or member.isdir()):
                raise InputError(archive, f"archive member {member.name!r} is a link or device; refusing to extract")
        for member in members:
            target = _member_target(root, member.name, archive)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(member)
            with src, atomic_path(target) as tmp, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
            written.append(target)
    return written


def zenodo_checksum(record_api: str, name: str, timeout_s: float = 60.0) -> str:
    """The checksum a Zenodo record publishes for its file ``name``, e.g. ``"md5:<hex>"``.

    ``record_api`` is the record's JSON (``https://zenodo.org/api/records/<id>``), whose
    ``files`` entries carry ``key`` and ``checksum``.
    """
    import json
    import re

    with urllib.request.urlopen(record_api, timeout=timeout_s) as response:
        record = json.load(response)
    for entry in record.get("files", []):
        if entry.get("key") == name:
            checksum = str(entry.get("checksum", ""))
            if not re.fullmatch(r"(md5|sha1|sha256):[0-9a-f]+", checksum):
                raise ValueError(f"{record_api}: unusable checksum {checksum!r} for {name}")
            return checksum
    raise ValueError(f"{record_api}: the record has no file named {name!r}")
