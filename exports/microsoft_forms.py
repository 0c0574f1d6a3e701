"""Microsoft Forms (.xlsx): ``ID, Start time, Completion time, Email, Name`` (newer exports add
``Last modified time``), then one column per question headed by its wording; a multiple-choice answer
is one cell of labels joined by ``;``, usually with a trailing ``;``. Anonymous forms put ``anonymous``
in Email, a placeholder that identifies nobody (``schemas.emails``). A response without a completion time is incomplete."""

from __future__ import annotations

from pathlib import Path

from exports.base import COMPLETE, IGNORE, ReadLimits, Target, WaveFile, finish, personal
from exports.grid import to_grid
from exports.matching import HeadingMatcher
from exports.workbook import workbook_rows
from schemas.codebook import Codebook
from schemas.questions import fold

NAME = "microsoft_forms"
SIGNATURE = {"id", "start time", "completion time"}


def looks_like(header: list) -> bool:
    return SIGNATURE <= {fold(str(h)) for h in header if h}


def read(path: Path, codebook: Codebook, limits: ReadLimits | None = None) -> WaveFile:
    sheet = workbook_rows(path, limits=limits, looks_like=looks_like)
    grid = to_grid(path, sheet.rows, header_rows=1, strict_width=False, note=sheet.note,
                   uncalculated=sheet.uncalculated)
    respondent = codebook.respondent
    metadata = {
        "id": Target("field", respondent.id_column),
        "start time": IGNORE,
        "completion time": Target("field", respondent.submitted_at_column),
        "last modified time": IGNORE,
        "email": personal(codebook, "email"),
        "name": personal(codebook, "name"),
    }
    matcher = HeadingMatcher(codebook, tool=NAME)
    headings = [str(h or "") for h in grid.headers[0]]
    plan = []
    for heading in headings:
        target = metadata.get(fold(heading)) or matcher.by_heading(heading)
        if target is not None and target.kind == "multiple":
            target = Target("joined", target.column, target.question)
        plan.append(target)
    wave_file = finish(path, NAME, grid, plan, headings, codebook)
    responses = wave_file.responses
    responses[COMPLETE] = responses[respondent.submitted_at_column].notna()
    return wave_file
