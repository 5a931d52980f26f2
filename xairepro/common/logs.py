"""Logging set-up for workflow scripts: one call, a file handler on the rule's log and stderr.

Library modules only ever call ``logging.getLogger(__name__)``; scripts call
:func:`setup_logging` once, so that every message, uncaught tracebacks included, ends up in
the rule's log file.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from tqdm import tqdm

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class _OneLine(logging.Formatter):
    """Records without their traceback, which is pointed to in the rule's log instead."""

    def __init__(self, fmt: str, log_path: str | Path):
        super().__init__(fmt)
        self.log_path = log_path

    def format(self, record: logging.LogRecord) -> str:
        if not (record.exc_info or record.exc_text or record.stack_info):
            return super().format(record)
        bare = logging.makeLogRecord(record.__dict__)
        bare.exc_info = bare.exc_text = bare.stack_info = None
        return f"{super().format(bare)} (traceback in {self.log_path})"


def setup_logging(log_path: str | Path | None = None, level: str = "INFO") -> logging.Logger:
    """Send log records to ``log_path`` (truncated) and to stderr; log uncaught exceptions.

    With a ``log_path``, tracebacks are written there only; stderr gets the message and
    where its traceback is.

    Parameters
    ----------
    log_path
        The rule's ``log`` file; ``None`` logs to stderr only.
    level
        A :mod:`logging` level name, e.g. ``"INFO"`` or ``"DEBUG"``.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    if log_path is not None:
        # the traceback goes to the rule's log only: Snakemake prints that log once when the
        # job fails (show-failed-logs), so the console shows each traceback once
        handlers[0].setFormatter(_OneLine(FORMAT, log_path))
    root.setLevel(level.upper())
    logging.captureWarnings(True)

    def _log_uncaught(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        logging.getLogger("xairepro").critical("%s", exc, exc_info=(exc_type, exc, tb))

    sys.excepthook = _log_uncaught
    return logging.getLogger("xairepro")


class _LogWriter:
    """A file-like sink that turns tqdm's refreshes into log lines."""

    def __init__(self, logger: logging.Logger):
        self.logger = logger

    def write(self, text: str) -> None:
        text = text.strip("\r\n ")
        if text:
            self.logger.info(text)

    def flush(self) -> None:
        pass


def progress(iterable=None, *, desc: str, total: int | None = None, logger: str = "xairepro"):
    """A tqdm bar on a terminal; in a rule's log, a line every 10 seconds instead.

    Set ``XAIREPRO_PROGRESS=0`` to silence it entirely.
    """
    if os.environ.get("XAIREPRO_PROGRESS", "") == "0":
        return tqdm(iterable, desc=desc, total=total, disable=True)
    if sys.stderr.isatty():
        return tqdm(iterable, desc=desc, total=total, dynamic_ncols=True)
    return tqdm(
        iterable,
        desc=desc,
        total=total,
        file=_LogWriter(logging.getLogger(logger)),
        mininterval=10.0,
        ascii=True,
        ncols=80,
    )
