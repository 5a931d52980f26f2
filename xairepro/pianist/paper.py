"""The paper corpus: Zenodo record 14774191, one zip with the clips, split tables, concept
MIDIs and checkpoints of the original.

The download is verified against a pinned sha256 (``pianist.data.paper.archive_sha256``)
or else the md5 Zenodo publishes for the file in the record's JSON. Extraction refuses any
member that would leave the folder (:func:`xairepro.common.download.safe_extract`), then
moves the three parts the workflow reads into the layout the demo uses too::

    <archive>/data/clips/<dataset>/<track>/clip_NNN.mid                    -> clips/
    <archive>/<split_dir>/{train,validation,test}_split.csv                -> splits/
    <archive>/references/cav_resources/voicings/midi_final/<k>_cav/*.mid   -> voicings/midi_final/
    <archive>/references/cav_resources/voicings/cav_mapping.csv            -> voicings/cav_mapping.csv
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from xairepro.common.errors import InputError, XaiReproError
from xairepro.common.io import atomic_path

log = logging.getLogger(__name__)
RECORD = "https://zenodo.org/records/14774191"
VOICINGS = "references/cav_resources/voicings"


def fetch_archive(urls: list[str], archive: str | Path, checksum_path: str | Path, *, sha256: str | None,
                  record_api: str | None, name: str) -> Path:
    """Download (or accept a hand-placed) archive, verified; record the checksum used."""
    from xairepro.common.download import download, file_digest, zenodo_checksum

    archive = Path(archive)
    if sha256:
        checksum = f"sha256:{sha256}"
    else:
        try:
            checksum = zenodo_checksum(record_api, name) if record_api else None
        except (OSError, ValueError) as exc:
            checksum, why = None, str(exc)
        else:
            why = "no Zenodo record API configured"
        if checksum is None:
            found = f"the file there has sha256 {file_digest(archive)}; " if archive.is_file() else ""
            raise XaiReproError(f"{archive}: no checksum to verify the archive against ({why}; {found}check it "
                                f"against {RECORD} and set pianist.data.paper.archive_sha256)")
    download(urls, archive, checksum=checksum)
    with atomic_path(checksum_path) as tmp:
        tmp.write_text(checksum + "\n")
    return archive


def extract_archive(archive: str | Path, dest: str | Path, *, checksum: str | None, split_dir: str) -> Path:
    """Verify and safely extract the archive; move clips, splits and voicings under ``dest``."""
    from xairepro.common.download import safe_extract, verify_checksum

    archive, dest = Path(archive), Path(dest)
    if checksum:
        verify_checksum(archive, checksum)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        safe_extract(archive, tmp)
        roots = [p.parent.parent for p in Path(tmp).glob("**/data/clips") if p.is_dir()]
        if not roots:
            raise InputError(archive, "no data/clips/ folder inside", f"the archive of {RECORD} holds data/clips/")
        root = min(roots, key=lambda p: len(p.parts))
        parts = {root / "data" / "clips": dest / "clips", root / split_dir: dest / "splits",
                 root / VOICINGS / "midi_final": dest / "voicings" / "midi_final",
                 root / VOICINGS / "cav_mapping.csv": dest / "voicings" / "cav_mapping.csv"}
        for src, target in parts.items():
            if not src.exists():
                raise InputError(archive, f"{src.relative_to(root)} is missing inside the archive")
            if target.exists():
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), target)
    log.info("extracted %s into %s", archive, dest)
    return dest
