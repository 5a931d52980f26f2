"""The one exception type a user should ever see from the library."""

from __future__ import annotations

from pathlib import Path


class XaiReproError(Exception):
    """A problem the user can fix; the message says what, where, and how."""


class InputError(XaiReproError):
    """A bad input file: corrupt, truncated, of the wrong kind, or failing its checksum.

    The message always starts with the offending path so that it can be found in a long log.
    """

    def __init__(self, path: str | Path, problem: str, fix: str | None = None):
        self.path = Path(path)
        message = f"{self.path}: {problem}"
        if fix:
            message += f" ({fix})"
        super().__init__(message)


class ConfigError(XaiReproError):
    """An invalid configuration value or an unknown key."""
