"""A Zenodo record's JSON as Zenodo's REST API serves it (``/api/records/<id>``), for the
mirrors of archives that Zenodo publishes (lossgrad's Jamendo corpus, the pianist archive).

The download rules read the archive's published ``"md5:<hex>"`` from the record's ``files``
entry, exactly as from the real record; the mirror's record carries the tiny archive's md5.
"""

from __future__ import annotations

import json
from pathlib import Path

from xairepro.common.download import file_digest


def write_record(zenodo: Path, record_id: int, archive: Path, title: str) -> Path:
    """``zenodo/api/records/<record_id>``: the record of ``archive`` (one file), with its md5."""
    record = zenodo / "api" / "records" / str(record_id)
    record.parent.mkdir(parents=True, exist_ok=True)
    md5 = file_digest(archive, "md5")
    record.write_text(json.dumps({
        "id": record_id,
        "recid": str(record_id),
        "doi": f"10.5281/zenodo.{record_id}",
        "metadata": {"title": title, "resource_type": {"id": "dataset"}},
        "files": [{
            "id": "00000000-0000-0000-0000-000000000000",
            "key": archive.name,
            "size": archive.stat().st_size,
            "checksum": f"md5:{md5}",
            "links": {"self": f"{record.as_uri()}/files/{archive.name}/content"},
        }],
        "links": {"self": record.as_uri(), "files": f"{record.as_uri()}/files"},
    }, indent=2) + "\n")
    return record
