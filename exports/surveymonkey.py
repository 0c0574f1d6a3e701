"""SurveyMonkey (.csv or .xlsx): two header rows.

Row 1: ``Respondent ID, Collector ID, Start Date, End Date, IP Address, Email Address, First Name,
Last Name, Custom Data 1``, then each question's wording, blank where a question spans several columns.
Row 2: ``Response`` (single choice), ``Open-Ended Response`` (text), or an option's label for each column
of a multiple-choice question, whose cell holds the label when ticked; an ``Other (please specify)``
column holds typed text, which is not kept. Dates are US style
(``09/14/2023 10:30:00 AM``); a response without an end date is incomplete.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from exports.base import (
    COMPLETE,
    IGNORE,
    ReadLimits,
    Target,
    WaveFile,
    finish,
    not_an_option,
    option_for,
    personal,
)
from exports.grid import text_grid, to_grid
from exports.matching import HeadingMatcher
from exports.workbook import WORKBOOK_SUFFIXES, workbook_rows
from schemas.codebook import Codebook
from schemas.questions import fold

NAME = "surveymonkey"
SIGNATURE = {"respondent id", "collector id"}
OTHER_SPECIFY = {"other (please specify)", "other (please specify):", "other, please specify"}
US_DATE_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p", "%m/%d/%Y")


def looks_like(header: list) -> bool:
    return SIGNATURE <= {fold(str(h)) for h in header if h}


def iso_from_us_date(value: str | None) -> str | None:
    """An ISO 8601 timestamp from a US-style date; anything else unchanged (the schema will catch it)."""
    if value is None:
        return None
    for pattern in US_DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, pattern).isoformat()
        except ValueError:
            continue
    return value


def read(path: Path, data: bytes, codebook: Codebook, limits: ReadLimits | None = None) -> WaveFile:
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        sheet = workbook_rows(path, limits=limits, looks_like=looks_like)
        grid = to_grid(path, sheet.rows, header_rows=2, strict_width=False, note=sheet.note,
                       uncalculated=sheet.uncalculated)
    else:
        grid = text_grid(path, data, limits, header_rows=2)
    respondent = codebook.respondent
    metadata = {
        "respondent id": Target("field", respondent.id_column),
        "collector id": IGNORE,
        "start date": IGNORE,
        "end date": Target("field", respondent.submitted_at_column),
        "ip address": personal(codebook, "ip_address"),
        "email address": personal(codebook, "email"),
        "first name": personal(codebook, "name"),
        "last name": IGNORE,  # never stored; the first name is enough to prove it is dropped
        "custom data 1": IGNORE,
    }
    matcher = HeadingMatcher(codebook, tool=NAME)
    plan, headings, current = [], [], None
    for top, sub in zip(grid.headers[0], grid.headers[1]):
        top, sub = (str(top).strip() if top else ""), (str(sub).strip() if sub else "")
        if top:
            current = top
        headings.append(f"{current} / {sub}" if sub else str(current))
        if top and fold(top) in metadata:
            plan.append(metadata[fold(top)])
            continue
        # A grid's stem heads its items' columns, each item below it.
        target = matcher.by_heading(current) or (matcher.by_heading(f"{current} / {sub}") if sub else None)
        if fold(sub) in OTHER_SPECIFY:
            plan.append(IGNORE)  # the text of "Other (please specify)": not in the codebook, not kept
            continue
        if target is None or target.kind != "multiple":
            plan.append(target)
            continue
        option_id = option_for(target.question, sub)
        if option_id is None:
            raise not_an_option(path, f"column {sub!r} of {current!r}", target.question, sub, codebook)
        plan.append(Target("option", target.question.option_column(option_id), target.question, option_id))
    wave_file = finish(path, NAME, grid, plan, headings, codebook)
    responses = wave_file.responses
    submitted = respondent.submitted_at_column
    responses[submitted] = responses[submitted].map(iso_from_us_date)
    responses[COMPLETE] = responses[submitted].notna()
    return wave_file
