"""Reading a landed wave file into the plain wide layout, every cell as text.

A file that cannot be read as a whole (empty, binary, not text, not CSV, missing, unknown or repeated
columns) raises ``WaveFileRejected`` with a one-line reason naming the file; nothing of it is loaded.
A row with the wrong number of cells (cut short, or with extra cells) is set aside as malformed for the
quarantine; every other row-level problem is found by the pandera schema in ``schemas.validation``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from schemas.codebook import Codebook

# A person counts rows in a spreadsheet from 1, header included: the first response is row 2.
HEADER_ROWS = 1
SOURCE_ROW = "source_row"


class WaveFileRejected(ValueError):
    """A whole file refused: the message names the file and the reason, on one line."""

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def sha256_of(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise WaveFileRejected(path, "the file is empty")
    if b"\x00" in data[:4096]:
        raise WaveFileRejected(path, "the file is binary, not a CSV export")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WaveFileRejected(
            path, f"the file is not UTF-8 text (byte {exc.start} cannot be decoded); export it as CSV UTF-8"
        ) from exc


def _check_header(path: Path, header: list[str], codebook: Codebook) -> None:
    repeated = sorted(c for c, n in Counter(header).items() if n > 1)
    if repeated:
        raise WaveFileRejected(path, f"columns appear more than once: {', '.join(repeated)}")
    expected = codebook.expected_columns
    missing = [c for c in expected if c not in header]
    unknown = [c for c in header if c not in expected]
    if missing and len(missing) == len(expected):
        raise WaveFileRejected(
            path, f"no column matches the {codebook.survey_id} codebook: is this the right survey?"
        )
    if missing:
        raise WaveFileRejected(path, f"required columns are missing: {', '.join(missing)}")
    if unknown:
        raise WaveFileRejected(
            path, f"columns not in the {codebook.survey_id} codebook: {', '.join(unknown)}"
        )


@dataclass(frozen=True)
class WaveFile:
    """One file's rows: those with the header's number of fields, and those without (``malformed``)."""

    responses: pd.DataFrame  # text cells (stripped; empty cells missing) in codebook order, plus source_row
    malformed: pd.DataFrame  # source_row, fields: rows cut short or with extra cells

    @property
    def rows_read(self) -> int:
        return len(self.responses) + len(self.malformed)


def read_plain_csv(path: Path | str, codebook: Codebook) -> WaveFile:
    """Read a file of the plain CSV layout.

    Rows are numbered as a spreadsheet shows them (the header is row 1). Blank lines are not responses
    and are skipped, but keep their number, so later rows keep theirs.
    """
    path = Path(path)
    records = csv.reader(io.StringIO(_decode(path), newline=""))
    try:
        header = [cell.strip() for cell in next(records, [])]
        _check_header(path, header, codebook)
        rows, numbers, malformed = [], [], []
        for row_number, record in enumerate(records, start=HEADER_ROWS + 1):
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                malformed.append((row_number, len(record)))
                continue
            rows.append(record)
            numbers.append(row_number)
    except csv.Error as exc:
        raise WaveFileRejected(path, f"the file is not a well-formed CSV: {exc}") from exc
    if not rows and not malformed:
        raise WaveFileRejected(path, "the file has a header but no responses")
    frame = pd.DataFrame(rows, columns=header, dtype=object)[codebook.expected_columns]
    frame = frame.apply(lambda column: column.str.strip())
    frame = frame.mask(frame.eq(""))
    frame.insert(0, SOURCE_ROW, numbers)
    return WaveFile(frame, pd.DataFrame(malformed, columns=[SOURCE_ROW, "fields"]))
