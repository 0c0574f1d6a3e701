"""Staging a wave's files for DuckDB: what one read of a file tells, whether DuckDB would number its rows
as a person does, and the staging folders that hold a wave's valid rows until they are loaded.

What does not belong here: validating the rows (``schemas.staged_validation``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from exports import SOURCE_ROW, WaveFileRejected, detect_layout, plain_csv
from exports.grid import csv_rows
from schemas.codebook import Codebook

HEAD_BYTES = 1 << 16


class NotStageable(Exception):
    """This file cannot be read by DuckDB exactly as the pandas path reads it; validate it there."""


@dataclass(frozen=True)
class FileScan:
    """What one read of a file's bytes tells: its digest, and how many line breaks it has."""

    path: Path
    sha256: str
    size_bytes: int
    line_breaks: int
    ends_with_line_break: bool

    def numbered_as_read(self, records: int) -> bool:
        """Whether a reader that skips blank lines (DuckDB) numbered ``records`` rows after the header as a
        person would: true when every line is the header or one record, with no line left over."""
        lines = self.line_breaks + (0 if self.ends_with_line_break or self.size_bytes == 0 else 1)
        return lines == records + 1 or not _has_blank_line(self.path)


def scan_file(path: Path) -> FileScan:
    """sha256 and line breaks in one read of the file."""
    digest, size, breaks, last = hashlib.sha256(), 0, 0, b""
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
            size += len(block)
            breaks += block.count(b"\n")
            last = block[-1:]
    return FileScan(path, digest.hexdigest(), size, breaks, last == b"\n")


def _has_blank_line(path: Path) -> bool:
    """Whether any line is empty (a line break inside a quoted cell is not); read only when lines and
    records differ, which line breaks inside cells also cause."""
    tail = np.zeros(0, dtype=np.uint8)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            window = np.concatenate([tail, np.frombuffer(block, dtype=np.uint8)])
            lf, cr = window == 10, window == 13
            if (lf[:-1] & lf[1:]).any() or (cr[:-1] & cr[1:]).any() or (lf[:-2] & cr[1:-1] & lf[2:]).any():
                return True
            tail = window[-2:]
    return False


@dataclass(frozen=True)
class StagedWave:
    """The valid rows of a wave, in a staging database of their own, until they are loaded."""

    database: Path
    table: str = "valid_rows"

    def frame(self) -> pd.DataFrame:
        """The valid rows as a frame (for tests and small waves), in file and row order."""
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(f"SELECT * FROM {self.table} ORDER BY file_order, {SOURCE_ROW}").df().drop(
                columns=["file_order"])

    def discard(self) -> None:
        shutil.rmtree(self.database.parent, ignore_errors=True)


def headings(path: Path) -> list[str]:
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:  # maybe a character cut at the end of the head; maybe not UTF-8
        if exc.start < len(head) - 4:
            raise NotStageable(f"{path.name}: not UTF-8") from None
        text = head[: exc.start].decode("utf-8-sig")
    if "\n" not in text or "\x00" in text:
        raise NotStageable(f"{path.name}: no complete header line in its first {HEAD_BYTES} bytes")
    rows = csv_rows(path, text.split("\n", 1)[0] + "\n", limit=1)
    if not rows or not any(h.strip() for h in rows[0]):
        raise NotStageable(f"{path.name}: no header")
    return [str(h or "") for h in rows[0]]


def stageable_layout(path: Path, codebook: Codebook) -> bool:
    """Whether the file is a CSV of the plain layout, judged from its first lines as ``read_export`` would."""
    if path.suffix.lower() != ".csv":
        return False
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    head = head[: head.rfind(b"\n") + 1]  # whole lines only
    try:
        return detect_layout(path, head, codebook) == plain_csv.NAME
    except WaveFileRejected:
        return False


def remove_abandoned(staging_dir: Path) -> None:
    """Staging folders of processes that died before loading (killed, say): nothing else will use them."""
    for folder in staging_dir.glob("wave-*-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
