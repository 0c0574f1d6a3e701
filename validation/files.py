"""A wave's files as rows of its staging database: what one read of a file tells, and each file copied in.

A plain CSV that DuckDB's strict CSV reader numbers exactly as a person would is read by DuckDB straight
into the staging database, raw cells as text (``raw_<n>``, columns ``c0``, ``c1``, ...): a wave of millions
of rows never passes through Python whole. Every other file (another layout, not UTF-8, blank lines,
rows of the wrong width) is read by its export reader (``exports``) into the canonical frame,
which is appended as ``raw_<n>`` in canonical columns, with the reader's row failures beside it. Either
way the rules (``validation.rules``) see the same canonical cells; which reader read a file decides no
outcome. Why DuckDB's reader did not read a CSV is worded here: its own message quotes the offending
line, which can hold anything a person typed.

What does not belong here: the rules, and what happens to failing rows (``validation.rules``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from exports import COMPLETE, SOURCE_ROW, ReadLimits, WaveFileRejected, detect_layout, plain_csv, read_export
from exports.base import refuse_irregular, refuse_oversized
from exports.grid import csv_rows, delimiter_of
from exports.text import UTF8, UTF8_BOM
from schemas.codebook import Codebook
from sql_text import identifier as quote_identifier

HEAD_BYTES = 1 << 16
# What DuckDB's CSV reader reports, in our words; its message goes on to quote the line ("Original Line:").
CSV_PROBLEMS = (
    ("Expected Number of Columns", "a row with more or fewer cells than the header"),
    ("unterminated quote", "a cell with an unterminated quote"),
    ("Invalid unicode", "not UTF-8"),
    ("Maximum line size", "a line too long for DuckDB's reader"),
)


class NotForDuckDB(Exception):
    """DuckDB's CSV reader would not number this file's rows as a person does: its export reader reads it."""


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
    """sha256 and line breaks in one read of the file (refused unopened if it is not a regular file)."""
    refuse_irregular(path)
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


@dataclass
class StagedFile:
    """One file copied into the staging database as ``raw_<number>``, and how its columns feed the wave."""

    number: int
    path: Path
    layout: str
    sources: dict[str, str]  # canonical column -> its column in raw_<number>
    read_by_duckdb: bool
    records: int  # as read, blank rows and rows the export reader could not use included
    malformed_rows: int = 0  # rows the export reader could not use at all (counted read, quarantined)
    reader_failures: pd.DataFrame = field(default_factory=pd.DataFrame)
    note: str | None = None  # why DuckDB's reader did not read a plain CSV, or which sheet was read
    encoding: str | None = None  # of a text file

    @property
    def table(self) -> str:
        return f"raw_{self.number}"

    @property
    def row_number(self) -> str:
        """The SQL of a row's number in the file as a person counts it (the header is row 1)."""
        return "r.rowid + 2" if self.read_by_duckdb else f"r.{SOURCE_ROW}"

    @property
    def complete(self) -> str:
        return "TRUE" if self.read_by_duckdb else f"r.{COMPLETE}"


def csv_problem(message: str) -> str:
    """What DuckDB's CSV reader found wrong with a file, and on which line, without a word of the line."""
    kind = next((words for pattern, words in CSV_PROBLEMS if pattern.lower() in message.lower()),
                "a line DuckDB's strict CSV reader refuses")
    line = re.search(r"CSV Error on Line: (\d+)", message)
    return f"{kind} (line {line.group(1)} of the file)" if line else kind


def stage_file(con: duckdb.DuckDBPyConnection, number: int, path: Path, scan: Callable[[], FileScan], codebook: Codebook,
               layout: str | None, limits: ReadLimits | None) -> StagedFile:
    """Copy one file into the staging database; raises ``WaveFileRejected`` if it cannot be used whole."""
    limits = limits or ReadLimits()
    refuse_oversized(path, limits.max_bytes)
    note = None
    if layout in (None, plain_csv.NAME) and _plain_csv(path, codebook):
        try:
            return _read_with_duckdb(con, number, path, scan, codebook)
        except NotForDuckDB as exc:
            note = f"{path.name} read by the plain-CSV reader: {exc}"
    wave_file = read_export(path, codebook, layout=layout, limits=limits)
    frame = wave_file.responses
    columns = list(codebook.expected_columns)
    typed = [f"CAST({quote_identifier(c)} AS VARCHAR) AS {quote_identifier(c)}" if c in frame else
             f"NULL::VARCHAR AS {quote_identifier(c)}" for c in columns]
    con.register("_frame", frame)
    con.execute(f"CREATE TABLE raw_{number} AS SELECT CAST({SOURCE_ROW} AS BIGINT) AS {SOURCE_ROW}, "
                f"CAST({COMPLETE} AS BOOLEAN) AS {COMPLETE}, {', '.join(typed)} FROM _frame")
    con.unregister("_frame")
    return StagedFile(number, path, wave_file.layout, {c: c for c in columns}, read_by_duckdb=False,
                      records=wave_file.rows_read, malformed_rows=wave_file.malformed_rows, reader_failures=wave_file.row_failures,
                      note="; ".join(n for n in (note, wave_file.note) if n) or None, encoding=wave_file.encoding)


def _read_with_duckdb(con, number: int, path: Path, scan: Callable[[], FileScan], codebook: Codebook) -> StagedFile:
    names, delimiter, bom = _headings(path)
    positional = {f"c{i}": "VARCHAR" for i in range(len(names))}
    try:
        con.execute(
            f"CREATE TABLE raw_{number} AS SELECT * FROM read_csv($path, columns = $columns, header = true, "
            "auto_detect = false, delim = $delimiter, quote = '\"', escape = '\"', strict_mode = true, encoding = 'utf-8')",
            {"path": str(path), "columns": positional, "delimiter": delimiter},
        )
    except duckdb.Error as exc:
        raise NotForDuckDB(csv_problem(str(exc))) from None
    records = con.execute(f"SELECT count(*) FROM raw_{number}").fetchone()[0]
    if records == 0 or not scan().numbered_as_read(records):
        con.execute(f"DROP TABLE raw_{number}")
        raise NotForDuckDB("no responses" if records == 0 else "it has blank lines, whose numbers DuckDB does not count")
    plan = plain_csv.column_plan(path, names, codebook)
    blank = plain_csv.unheaded(names)
    if blank:
        counts = con.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE trim(c{i}) <> '')" for i in blank)
                             + f" FROM raw_{number}").fetchone()
        plain_csv.refuse_unheaded_values(path, names, dict(zip(blank, counts)))
    sources = {target.column: f"c{i}" for i, target in enumerate(plan) if target is not None and target.kind != "ignore"}
    return StagedFile(number, path, plain_csv.NAME, sources, read_by_duckdb=True, records=records,
                      encoding=UTF8_BOM if bom else UTF8)


def _headings(path: Path) -> tuple[list[str], str, bool]:
    """The header's cells, its delimiter and whether the file opens with a UTF-8 BOM."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:  # maybe a character cut at the end of the head; maybe not UTF-8
        if exc.start < len(head) - 4:
            raise NotForDuckDB("not UTF-8") from None
        text = head[: exc.start].decode("utf-8-sig")
    if "\n" not in text:
        raise NotForDuckDB(f"no complete header line in its first {HEAD_BYTES} bytes")
    if "\x00" in text:
        raise NotForDuckDB("a NUL byte in its first lines")
    rows = csv_rows(path, text.split("\n", 1)[0] + "\n", limit=1)
    if not rows or not any(h.strip() for h in rows[0]):
        raise NotForDuckDB("no header")
    return [str(h or "") for h in rows[0]], delimiter_of(text), head.startswith(b"\xef\xbb\xbf")


def _plain_csv(path: Path, codebook: Codebook) -> bool:
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
