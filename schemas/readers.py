"""Reading a landed wave file into the plain wide layout, every cell as text.

A file that cannot be read as a whole (empty, not text, ragged, missing or unknown columns) raises
``WaveFileRejected`` with a one-line reason naming the file; nothing of it is loaded. Row-level problems
are not this module's business: they are found by the pandera schema in ``schemas.validation``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from pathlib import Path

import pandas as pd

from schemas.codebook import Codebook

# A person counts rows in a spreadsheet from 1, header included: data row i (from 0) is row i + 2.
HEADER_ROWS = 1


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


def read_plain_csv(path: Path | str, codebook: Codebook) -> pd.DataFrame:
    """The file's responses as text columns in codebook order; empty cells are missing values."""
    path = Path(path)
    text = _decode(path)
    header = next(csv.reader(io.StringIO(text)), [])
    _check_header(path, header, codebook)
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], skip_blank_lines=False
        )
    except pd.errors.ParserError as exc:
        raise WaveFileRejected(path, f"the file is not a well-formed CSV: {exc}") from exc
    if frame.empty:
        raise WaveFileRejected(path, "the file has a header but no responses")
    return frame[codebook.expected_columns]
