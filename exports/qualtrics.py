"""Qualtrics (.csv): three header rows: field ids (``StartDate, EndDate, Status, ... ResponseId, Q1,
Q2_1``), question wording (``<wording> - <option label>`` for each column of a multiple-choice question),
and ``{"ImportId":"QID1"}`` JSON. ``Finished = 0`` marks a partial response. A multiple-choice column
holds ``1`` or the option's text when ticked, and is blank otherwise."""

from __future__ import annotations

import json
import re
from pathlib import Path

from exports.base import IGNORE, ReadLimits, Target, WaveFile, finish, not_an_option, option_for, personal
from exports.grid import text_grid
from exports.matching import HeadingMatcher
from schemas.codebook import Codebook
from schemas.questions import fold

NAME = "qualtrics"


def metadata_targets(codebook: Codebook) -> dict[str, Target]:
    """Qualtrics' own columns (also the variable names of its SPSS exports)."""
    respondent = codebook.respondent
    ignored = ["startdate", "enddate", "status", "progress", "duration (in seconds)", "distributionchannel",
               "userlanguage", "externalreference", "externaldatareference", "locationlatitude",
               "locationlongitude", "recipientlastname", "q_recaptchascore"]
    targets = {name: IGNORE for name in ignored}
    targets.update({
        "responseid": Target("field", respondent.id_column),
        "recordeddate": Target("field", respondent.submitted_at_column),
        "finished": Target("complete"),
        "ipaddress": personal(codebook, "ip_address"),
        "recipientemail": personal(codebook, "email"),
        "recipientfirstname": personal(codebook, "name"),
    })
    return targets


def looks_like(rows: list[list]) -> bool:
    ids = {fold(str(c)) for c in rows[0] if c} if rows else set()
    import_row = rows[2] if len(rows) > 2 else []
    return "responseid" in ids or any(str(c).startswith('{"ImportId"') for c in import_row if c)


def _import_id(cell) -> str | None:
    try:
        return json.loads(cell).get("ImportId") if cell else None
    except (ValueError, AttributeError):
        return None


def target_for(field_id: str, wording: str, matcher: HeadingMatcher, metadata: dict[str, Target],
               import_id: str | None = None) -> Target | None:
    if fold(field_id) in metadata:
        return metadata[fold(field_id)]
    # The ImportId (QID5) is stable when a survey designer renames Q5; either may be in the codebook.
    target = matcher.by_tool_id(import_id) or matcher.by_tool_id(field_id) or matcher.by_heading(wording)
    if target is not None and target.kind != "multiple":
        return target
    # One column of a multiple-choice question: its wording is "<question> - <option>".
    split = matcher.split_question_option(wording)
    base_id = re.sub(r"_\d+$", "", field_id)
    by_id = matcher.by_tool_id(base_id)
    if split is None and by_id is not None and by_id.kind == "multiple":
        split = (by_id.question, wording.rsplit(" - ", 1)[-1])
    if split is None:
        return None
    question, label = split
    option_id = option_for(question, label)
    if option_id is None:
        return Target("unknown_option", label, question)  # type: ignore[arg-type]
    return Target("option", question.option_column(option_id), question, option_id)


def read(path: Path, data: bytes, codebook: Codebook, limits: ReadLimits | None = None) -> WaveFile:
    grid = text_grid(path, data, limits, header_rows=3)
    matcher, metadata = HeadingMatcher(codebook, tool=NAME), metadata_targets(codebook)
    plan, headings = [], []
    for field_id, wording, import_cell in zip(grid.headers[0], grid.headers[1], grid.headers[2]):
        field_id, wording = str(field_id or "").strip(), str(wording or "").strip()
        headings.append(f"{field_id} ({wording})")
        target = target_for(field_id, wording, matcher, metadata, _import_id(import_cell))
        if target is not None and target.kind == "unknown_option":
            raise not_an_option(path, f"column {field_id!r}", target.question, target.column, codebook)
        plan.append(target)
    return finish(path, NAME, grid, plan, headings, codebook)
