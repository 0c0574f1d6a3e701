"""A command that fails in a way nobody foresaw (a disk filling, a folder it may not write, a bug) still
ends with one line: ``FAILED:``, the command and its file, the cause, and where the full traceback went.

The traceback goes to a log file in the home's private working folder (``<home>/working/logs/``), which
holds refused values already and is not published, because an unforeseen error's message and locals may
quote what a delivered file contains; when that folder cannot be written (the disk that is full, say)
the system's temporary folder is used, and when nothing can be written the line says so.

What does not belong here: refusals, which are foreseen and worded where they are found, or the
commands themselves (``pipelines.cli``).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import traceback
from pathlib import Path

LOGS_FOLDER = "logs"


def crash_line(exc: BaseException, command: str, working_dir: Path | None) -> str:
    """The one line for ``exc``, after writing its traceback to a log file."""
    log = _write_log(exc, command, working_dir)
    where = f"full traceback in {log}" if log else "no log file could be written either"
    return f"FAILED: {command}: {cause(exc)} ({where})"


def cause(exc: BaseException) -> str:
    """What went wrong, in words: an operating-system error by its own words and file."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}{f': {exc.filename}' if exc.filename else ''}"
    first_line = next(iter(str(exc).strip().splitlines()), "")
    return f"{type(exc).__name__}{f': {first_line[:300]}' if first_line else ''}"


def _write_log(exc: BaseException, command: str, working_dir: Path | None) -> Path | None:
    return write_log(f"survey {command} failed", "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
                     working_dir)


def write_log(title: str, details: str, working_dir: Path | None) -> Path | None:
    """A new log file holding ``details`` (a traceback), in the working folder's ``logs/`` or the system's
    temporary folder; None when neither can be written."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    text = f"{title} at {stamp} (pid {os.getpid()})\n\n{details}"
    folders = ([working_dir / LOGS_FOLDER] if working_dir is not None else []) + [Path(tempfile.gettempdir())]
    for folder in folders:
        path = folder / f"survey-failure-{stamp}.log"
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
            return path
        except OSError:
            try:
                path.unlink(missing_ok=True)  # a file half-written to a full disk says nothing
            except OSError:
                pass
    return None
