"""Excel workbooks as rows of cells: within bounds, from the sheet that holds the responses, formulas
as the values Excel saved.

A workbook is a zip of XML: 1 MB can unpack to gigabytes, or hold millions of shared strings, which
openpyxl would read into memory before the first row. Its size unpacked and its shared strings are
counted from the zip's directory and the strings part's own header before openpyxl opens it, and its
cells while it is read (``ReadLimits``). The sheet read is the first whose header row looks like the
layout (a workbook with a cover sheet first is read from its responses), and the report says which.
A macro-enabled workbook (.xlsm) is read the same way, as values: its macros never run. A formula cell
is read as the value Excel saved with it; one saved without a value (written by a program that does not
calculate) is marked ``UNCALCULATED`` so that its row is quarantined saying so (``exports.grid``).

What does not belong here: what the columns mean (the layout modules), text files (``exports.text``).
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from exports.base import ReadLimits, WaveFileRejected

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
_SHARED_STRINGS = "xl/sharedStrings.xml"  # where Excel puts it; the workbook's relationships say for sure
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_SHARED_STRINGS_TARGET = re.compile(rb'Type="[^"]*/sharedStrings"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Type="[^"]*/sharedStrings"')
_UNIQUE_COUNT = re.compile(rb'uniqueCount="(\d+)"')


class _Uncalculated:
    """A formula cell saved without its value."""

    def __repr__(self) -> str:
        return "UNCALCULATED"


UNCALCULATED = _Uncalculated()


@dataclass(frozen=True)
class SheetRows:
    rows: list[list]
    note: str | None = None  # which sheet was read, when the workbook has several
    uncalculated: bool = False  # whether a cell is ``UNCALCULATED``


def workbook_rows(path: Path, limit: int | None = None, limits: ReadLimits | None = None,
                  looks_like: Callable[[list], bool] | None = None) -> SheetRows:
    """The rows of the sheet holding the responses (or its first ``limit`` rows), trailing empty columns
    trimmed; raises ``WaveFileRejected`` for a workbook that cannot be read, or would take too much."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    limits = limits or ReadLimits()
    _refuse_oversized_parts(path, limits)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError) as exc:
        raise WaveFileRejected(path, f"not a readable Excel workbook: {exc}") from exc
    try:
        sheets = workbook.worksheets
        number = _sheet_with_responses(sheets, looks_like)
        sheet = sheets[number]
        rows = _read_rows(path, sheet, limit, limits)
        uncalculated = limit is None and _has_formulas(path, sheet) and _mark_uncalculated(path, sheet.title, rows)
    except WaveFileRejected:
        raise
    except (ValueError, KeyError, TypeError, zipfile.BadZipFile, OSError) as exc:
        # A damaged cell (text where the sheet says number, say): openpyxl's message quotes the cell, which
        # can be anything a person typed, so only the kind of error is kept.
        raise WaveFileRejected(path, f"not a readable Excel workbook: a cell of sheet {number + 1} cannot be read "
                               f"({type(exc).__name__})") from None
    finally:
        workbook.close()
    note = None
    if len(sheets) > 1:
        note = (f"{path.name}: sheet {sheet.title!r} read ({number + 1} of {len(sheets)}"
                f"{', the first with the questions' if number else ''})")
    if path.suffix.lower() == ".xlsm":
        note = "; ".join(filter(None, (note, f"{path.name}: a macro-enabled workbook, read as values (macros not run)")))
    return SheetRows(_trimmed(rows), note, bool(uncalculated))


def _refuse_oversized_parts(path: Path, limits: ReadLimits) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if unpacked > limits.workbook_uncompressed_bytes:
                raise WaveFileRejected(path, f"the workbook unpacks to {unpacked:,} bytes, over the limit of "
                                       f"{limits.workbook_uncompressed_bytes:,}: save the responses alone, or as CSV")
            part = _shared_strings_part(archive)
            if part is not None:
                strings = _shared_strings(archive, part, limits.workbook_shared_strings)
                if strings > limits.workbook_shared_strings:
                    raise WaveFileRejected(path, f"the workbook holds {strings:,} distinct texts, over the limit of "
                                           f"{limits.workbook_shared_strings:,}: save the responses as CSV")
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise WaveFileRejected(path, f"not a readable Excel workbook: {exc}") from exc


def _shared_strings_part(archive: zipfile.ZipFile) -> str | None:
    names = set(archive.namelist())
    if _WORKBOOK_RELS in names:
        found = _SHARED_STRINGS_TARGET.search(archive.read(_WORKBOOK_RELS))
        if found:
            target = (found.group(1) or found.group(2)).decode()
            target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            if target in names:
                return target
    return _SHARED_STRINGS if _SHARED_STRINGS in names else None


def _shared_strings(archive: zipfile.ZipFile, name: str, limit: int) -> int:
    """The count the strings part declares, else its strings counted until past ``limit``."""
    with archive.open(name) as part:
        head = part.read(4096)
        declared = _UNIQUE_COUNT.search(head)
        if declared:
            return int(declared.group(1))
        # A tail one byte shorter than "<si>" carries a string cut by a block's end into the next block,
        # and can hold no whole one, so none is counted twice.
        count, tail = head.count(b"<si>") + head.count(b"<si "), head[-3:]
        for block in iter(lambda: part.read(1 << 20), b""):
            joined = tail + block
            count += joined.count(b"<si>") + joined.count(b"<si ")
            tail = joined[-3:]
            if count > limit:
                break
        return count


def _sheet_with_responses(sheets, looks_like) -> int:
    if looks_like is None or len(sheets) == 1:
        return 0
    for number, sheet in enumerate(sheets):
        header = next(sheet.iter_rows(max_row=1, values_only=True), ())
        if looks_like(list(header)):
            return number
    return 0


def _read_rows(path: Path, sheet, limit: int | None, limits: ReadLimits) -> list[list]:
    rows, cells = [], 0
    for row in itertools.islice(sheet.iter_rows(values_only=True), limit):
        cells += len(row)
        if cells > limits.workbook_cells:
            raise WaveFileRejected(path, f"sheet {sheet.title!r} holds more than {limits.workbook_cells:,} cells: "
                                   "save the responses as CSV")
        rows.append(list(row))
    return rows


def _has_formulas(path: Path, sheet) -> bool:
    """Whether the sheet's XML holds a formula, found by scanning its bytes (no parse)."""
    part = getattr(sheet, "_worksheet_path", None)
    if part is None:
        return True  # cannot tell: look cell by cell
    with zipfile.ZipFile(path) as archive, archive.open(part.lstrip("/")) as xml:
        tail = b""
        for block in iter(lambda: xml.read(1 << 20), b""):
            joined = tail + block
            if b"<f>" in joined or b"<f " in joined:
                return True
            tail = block[-3:]
    return False


def _mark_uncalculated(path: Path, title: str, rows: list[list]) -> bool:
    """Replace in ``rows`` each formula cell that has no saved value by ``UNCALCULATED``; whether any was."""
    from openpyxl import load_workbook

    formulas = load_workbook(path, read_only=True, data_only=False)
    marked = False
    try:
        for values, written in zip(rows, formulas[title].iter_rows(values_only=True)):
            for i, (value, cell) in enumerate(zip(values, written)):
                if value is None and isinstance(cell, str) and cell.startswith("="):
                    values[i] = UNCALCULATED
                    marked = True
    finally:
        formulas.close()
    return marked


def _trimmed(rows: list[list]) -> list[list]:
    """Excel keeps formatting on empty trailing columns: trim them."""
    width = max((max((i + 1 for i, v in enumerate(r) if _filled(v)), default=0) for r in rows), default=0)
    return [r[:width] + [None] * (width - len(r)) for r in rows]


def _filled(cell) -> bool:
    return cell is not None and str(cell).strip() != ""
