"""Exports as grids of cells: header rows, then data rows numbered as a person sees them."""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from pathlib import Path

from exports.base import RULE_ENCODING, RULE_FIELD_COUNT, RULE_UNCALCULATED, WHOLE_ROW, ReadLimits, WaveFileRejected
from exports.text import UNDECODABLE, decode_text, readable
from exports.workbook import UNCALCULATED

# The csv module refuses a field over 128 KiB as an error of the whole file; a long comment is one row's
# problem (the codebook's text_max_length quarantines it), and files are bounded by size before this.
csv.field_size_limit(1 << 30)
DELIMITERS = (",", ";", "\t")


@dataclass
class Grid:
    headers: list[list]  # header rows, each padded to the width of the first
    records: list[list]  # data rows with exactly that width
    row_numbers: list[int]  # spreadsheet row number of each record (first header row = 1)
    malformed: list[tuple]  # (row number, column, rule, value) for rows of the wrong width or not decodable
    encoding: str | None = None  # of a text file: how its bytes were decoded (``exports.text``)
    note: str | None = None  # of a workbook: which sheet was read, when it has several


def text_grid(path: Path, data: bytes, limits: ReadLimits | None, header_rows: int) -> Grid:
    """A text export's grid: its bytes decoded on evidence (``exports.text``), split by its delimiter."""
    text = decode_text(path, data, limits)
    if text.text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
        raise WaveFileRejected(path, "an HTML page, not an export: a download that returned a sign-in or error "
                               "page? Download the export again")
    return to_grid(path, csv_rows(path, text.text), header_rows=header_rows, strict_width=True, encoding=text.encoding,
                   undecodable=text.undecodable_lines > 0)


def csv_rows(path: Path, text: str, limit: int | None = None) -> list[list[str]]:
    """The file's rows, or only its first ``limit`` rows (enough to recognise a layout), split by the
    delimiter of its header line."""
    try:
        return list(itertools.islice(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text)), limit))
    except csv.Error as exc:
        raise WaveFileRejected(path, f"the file is not a well-formed CSV: {exc}") from exc


def delimiter_of(text: str) -> str:
    """The delimiter that splits the first line into the most cells: a comma, or a semicolon (Excel where
    the decimal mark is a comma) or a tab; a comma when none splits it."""
    end = text.find("\n")
    line = text if end < 0 else text[:end]
    counts = {d: len(next(csv.reader([line], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (counts[d], d == ","))


def to_grid(path: Path, rows: list[list], header_rows: int, strict_width: bool, encoding: str | None = None,
            note: str | None = None, undecodable: bool = False, uncalculated: bool = False) -> Grid:
    """Split rows into headers and records; blank rows are skipped but keep their number.

    With ``strict_width`` (text files) a record of another width than the first header is malformed;
    spreadsheets pad rows themselves, so there a short row is only empty cells. A record holding bytes
    that are not UTF-8 (``exports.text``) is quarantined whole, its first such cell named, as is one
    holding a formula saved without its value (``exports.workbook``). The cells are searched for them only
    when the file has any (``undecodable``, ``uncalculated``): a cell-by-cell search of a million rows costs
    seconds.
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
        bad_text = next((i for i, c in enumerate(row) if isinstance(c, str) and UNDECODABLE.search(c)),
                        None) if undecodable else None
        if bad_text is not None:
            heading = next((h[bad_text] for h in headers if bad_text < width and _filled(h[bad_text])), None)
            malformed.append((number, str(heading) if heading is not None else WHOLE_ROW, RULE_ENCODING,
                              readable(row[bad_text])))
            continue
        formula = next((i for i, c in enumerate(row) if c is UNCALCULATED), None) if uncalculated else None
        if formula is not None:
            heading = next((h[formula] for h in headers if _filled(h[formula])), None)
            malformed.append((number, str(heading) if heading is not None else WHOLE_ROW, RULE_UNCALCULATED, None))
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
    return Grid(headers, records, numbers, malformed, encoding, note)


def _filled(cell) -> bool:
    return cell is not None and str(cell).strip() != ""
