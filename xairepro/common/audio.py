"""Reading audio files that may be damaged: every reader of the workflow goes through here.

libsndfile decodes what is there: a WAV cut short by an interrupted download reads as a
shorter recording, with no error (a WAV cut to 10 % gives 26,440 of its 264,600 samples).
:func:`read_audio` compares what it read with the length the file's header declares (the
RIFF ``data`` chunk for WAV, libsndfile's frame count for the other formats) and turns any
shortfall, an empty file or an undecodable one into one :class:`InputError` naming it.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from xairepro.common.errors import InputError

#: What to do about a damaged recording, the same advice wherever it is read.
FIX = "re-generate or re-download it; see README, 'Bad inputs'"


def declared_wav_bytes(path: str | Path) -> tuple[int, int] | None:
    """``(declared, present)`` bytes of a RIFF/WAVE file's ``data`` chunk, or ``None`` for a
    file that is not a RIFF/WAVE container. A header without a ``data`` chunk is an
    :class:`InputError`."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        pos = 12
        while pos + 8 <= size:
            handle.seek(pos)
            chunk_id, chunk_size = struct.unpack("<4sI", handle.read(8))
            if chunk_id == b"data":
                return chunk_size, size - pos - 8
            pos += 8 + chunk_size + (chunk_size & 1)
    raise InputError(path, "is a WAV file without a data chunk (truncated header)", FIX)


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """All frames of an audio file, checked against its header.

    Returns
    -------
    audio
        ``(frames, channels)`` float32.
    rate
        Sample rate in Hz.

    Raises
    ------
    InputError
        The file is missing, empty, not decodable, has no frames, or holds fewer frames
        than its header declares (truncated).
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "audio file not found")
    if path.stat().st_size == 0:
        raise InputError(path, "is empty (0 bytes)", FIX)
    wav = declared_wav_bytes(path)
    if wav is not None and wav[1] < wav[0]:
        raise InputError(
            path, f"is truncated: its header declares {wav[0]} bytes of samples, only {wav[1]} are present", FIX
        )
    try:
        info = sf.info(str(path))
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise InputError(path, f"is not readable audio ({exc})", FIX) from exc
    if audio.shape[0] == 0:
        raise InputError(path, "holds no audio frames", FIX)
    if 0 < info.frames and audio.shape[0] < info.frames:
        raise InputError(
            path, f"is truncated: its header declares {info.frames} frames, only {audio.shape[0]} could be read", FIX
        )
    return audio, rate
