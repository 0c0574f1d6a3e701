"""Exports as grids of cells: header rows, then data rows numbered as a person sees them."""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from dataclasses import dataclass
from pathlib import Path

from exports.base import RULE_FIELD_COUNT, WHOLE_ROW, WaveFileRejected


@dataclass
class Grid:
    headers: list[list]  # header rows, each padded to the width of the first
    records: list[list]  # data rows with exactly that width
    row_numbers: list[int]  # spreadsheet row number of each record (first header row = 1)
    malformed: list[tuple]  # (row number, column, rule, value) for rows of the wrong width


def csv_rows(path: Path, text: str, limit: int | None = None) -> list[list[str]]:
    """The file's rows, or only its first ``limit`` rows (enough to recognise a layout)."""
    try:
        return list(itertools.islice(csv.reader(io.StringIO(text, newline="")), limit))
    except csv.Error as exc:
        raise WaveFileRejected(path, f"the file is not a well-formed CSV: {exc}") from exc


def xlsx_rows(path: Path, limit: int | None = None) -> list[list]:
    """The first sheet's rows (or its first ``limit`` rows), trailing empty columns trimmed."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError) as exc:
        raise WaveFileRejected(path, f"not a readable Excel workbook: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        rows = [list(row) for row in itertools.islice(sheet.iter_rows(values_only=True), limit)]
    except (ValueError, KeyError, TypeError, zipfile.BadZipFile, OSError) as exc:
        # A damaged cell (text where the sheet says number, say): openpyxl's message quotes the cell, which
        # can be anything a person typed, so only the kind of error is kept.
        raise WaveFileRejected(path, f"not a readable Excel workbook: a cell of its first sheet cannot be read "
                               f"({type(exc).__name__})") from None
    finally:
        workbook.close()
    # Excel keeps formatting on empty trailing columns: trim them.
    width = max((max((i + 1 for i, v in enumerate(r) if _filled(v)), default=0) for r in rows), default=0)
    return [r[:width] + [None] * (width - len(r)) for r in rows]


def to_grid(path: Path, rows: list[list], header_rows: int, strict_width: bool) -> Grid:
    """Split rows into headers and records; blank rows are skipped but keep their number.

    With ``strict_width`` (text files) a record of another width than the first header is malformed;
    spreadsheets pad rows themselves, so there a short row is only empty cells.
    """
    if len(rows) < header_rows or not any(_filled(c) for c in rows[0]):
        raise WaveFileRejected(path, f"the file lacks its {header_rows} header row(s)")
    # Some tools (and spreadsheets re-saving a CSV) drop the trailing empty cells of a header row.
    width = max(len(r) for r in rows[:header_rows])
    headers = [list(r) + [None] * (width - len(r)) for r in rows[:header_rows]]
    records, numbers, malformed = [], [], []
    for number, row in enumerate(rows[header_rows:], start=header_rows + 1):
        if not any(_filled(c) for c in row):
            continue
        if len(row) != width and (strict_width or len(row) > width):
            malformed.append((number, WHOLE_ROW, RULE_FIELD_COUNT, f"{len(row)} cells; the header has {width}"))
            continue
        records.append(list(row) + [None] * (width - len(row)))
        numbers.append(number)
    if not records and not malformed:
        raise WaveFileRejected(path, "the file has a header but no responses")
    if not records:
        raise WaveFileRejected(path, f"no row has the header's {width} cells: is the header complete?")
    return Grid(headers, records, numbers, malformed)


def _filled(cell) -> bool:
    return cell is not None and str(cell).strip() != ""
