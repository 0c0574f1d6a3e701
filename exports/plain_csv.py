"""The plain CSV layout: one column per respondent field and single-choice or text question (headed by
its id), and one 0/1 column per multiple-choice option, headed ``<question_id>.<option_id>``."""

from __future__ import annotations

from pathlib import Path

from exports.base import (
    ReadLimits,
    Target,
    WaveFile,
    WaveFileRejected,
    finish,
    refuse_double_mapping,
    refuse_missing,
    refuse_unmatched,
)
from exports.grid import text_grid
from schemas.codebook import Codebook, fold

NAME = "plain_csv"


def plan_for(codebook: Codebook) -> dict[str, Target]:
    respondent = codebook.respondent
    plan = {fold(c): Target("field", c) for c in (respondent.id_column, respondent.submitted_at_column, respondent.trust.column)}
    plan[fold(respondent.role.column)] = Target("single", respondent.role.column)
    plan.update({fold(c): Target("field", c) for c in respondent.personal_data})
    for question in codebook.questions:
        if question.type == "multiple":
            # Kept as delivered: the schema checks the cells are 0 or 1.
            plan.update({fold(c): Target("field", c, question) for c in question.option_columns})
            if question.renamed_from:  # a file of a wave before the rename
                plan.update({fold(f"{question.renamed_from}.{o.id}"): Target("field", question.option_column(o.id), question)
                             for o in question.options})
        else:
            plan[fold(question.id)] = Target(question.type, question.id, question)
            if question.renamed_from:  # a file of a wave before the rename
                plan[fold(question.renamed_from)] = plan[fold(question.id)]
    return plan


def looks_like(header: list, codebook: Codebook) -> bool:
    return fold(codebook.respondent.id_column) in {fold(str(h)) for h in header if h}


def column_plan(path: Path, headings: list[str], codebook: Codebook) -> list[Target]:
    """What each column of a plain CSV holds, from its header; raises ``WaveFileRejected`` for a header
    that does not fit the codebook (unknown, doubled or missing columns)."""
    known = plan_for(codebook)
    plan = [known.get(fold(heading)) for heading in headings]
    refuse_unmatched(path, plan, headings, codebook)
    present = {t.column for t in plan if t is not None}
    for question in codebook.questions:
        missing = [c for c in question.option_columns if c not in present]
        if missing and (question.required or len(missing) < len(question.option_columns)):
            raise WaveFileRejected(path, f"required columns are missing: {', '.join(missing)}")
    refuse_double_mapping(path, plan, headings)
    refuse_missing(path, plan, codebook)
    return plan


def read(path: Path, data: bytes, codebook: Codebook, limits: ReadLimits | None = None) -> WaveFile:
    grid = text_grid(path, data, limits, header_rows=1)
    headings = [str(h or "") for h in grid.headers[0]]
    return finish(path, NAME, grid, column_plan(path, headings, codebook), headings, codebook)
