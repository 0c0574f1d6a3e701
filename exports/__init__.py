"""Reading survey-tool exports into the canonical wave frame.

Layouts: the plain CSV of the foundation (``plain_csv``), Microsoft Forms (``microsoft_forms``, .xlsx),
SurveyMonkey (``surveymonkey``, .csv or .xlsx), Qualtrics (``qualtrics``, .csv) and SPSS (``spss``, .sav).
The layout is detected from the file, or named by the caller. Each layout module says what it reads;
``base`` says what they all produce. Validation is not done here but in ``validation``.
"""

from __future__ import annotations

from pathlib import Path

from exports import microsoft_forms, plain_csv, qualtrics, spss, surveymonkey
from exports.base import (
    COMPLETE,
    ROW_FAILURE_COLUMNS,
    SOURCE_ROW,
    WHOLE_ROW,
    ReadLimits,
    WaveFile,
    WaveFileRejected,
    read_bytes,
    sha256_of,
)
from exports.grid import csv_rows
from exports.text import decode_text
from exports.workbook import WORKBOOK_SUFFIXES, workbook_rows
from schemas.codebook import Codebook

LAYOUTS = (plain_csv.NAME, microsoft_forms.NAME, surveymonkey.NAME, qualtrics.NAME, spss.NAME)
FILE_SUFFIXES = (".csv", *WORKBOOK_SUFFIXES, ".sav")

__all__ = ["COMPLETE", "FILE_SUFFIXES", "LAYOUTS", "ROW_FAILURE_COLUMNS", "SOURCE_ROW", "WHOLE_ROW", "ReadLimits", "WaveFile",
           "WaveFileRejected", "detect_layout", "read_export", "sha256_of"]


def detect_layout(path: Path, data: bytes, codebook: Codebook, limits: ReadLimits | None = None) -> str:
    suffix = path.suffix.lower()
    if suffix == ".sav":
        return spss.NAME
    if suffix in WORKBOOK_SUFFIXES:
        def known(header: list) -> bool:
            return surveymonkey.looks_like(header) or microsoft_forms.looks_like(header)

        header = next(iter(workbook_rows(path, limit=1, limits=limits, looks_like=known).rows), [])
        if surveymonkey.looks_like(header):
            return surveymonkey.NAME
        if microsoft_forms.looks_like(header):
            return microsoft_forms.NAME
        raise WaveFileRejected(path, "an Excel file that is neither a Microsoft Forms nor a SurveyMonkey export")
    rows = csv_rows(path, decode_text(path, data, limits).text, limit=3)
    if rows and surveymonkey.looks_like(rows[0]):
        return surveymonkey.NAME
    if qualtrics.looks_like(rows):
        return qualtrics.NAME
    return plain_csv.NAME


def read_export(path: Path | str, codebook: Codebook, layout: str | None = None,
                limits: ReadLimits | None = None) -> WaveFile:
    """Read one export of any known layout; raises ``WaveFileRejected`` if the file cannot be used whole."""
    path = Path(path)
    data = read_bytes(path, limits)
    if layout is not None and layout not in LAYOUTS:
        raise WaveFileRejected(path, f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    layout = layout or detect_layout(path, data, codebook, limits)
    if layout == spss.NAME:
        return spss.read(path, codebook)
    if layout == microsoft_forms.NAME:
        return microsoft_forms.read(path, codebook, limits)
    if layout == surveymonkey.NAME:
        return surveymonkey.read(path, data, codebook, limits)
    if layout == qualtrics.NAME:
        return qualtrics.read(path, data, codebook, limits)
    return plain_csv.read(path, data, codebook, limits)
