"""The plain CSV layout: one column per respondent field and single-choice or text question (headed by
its id), and one 0/1 column per multiple-choice option, headed ``<question_id>.<option_id>``."""

from __future__ import annotations

from pathlib import Path

from exports.base import (
    IGNORE,
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
from schemas.codebook import Codebook
from schemas.questions import fold

NAME = "plain_csv"


def plan_for(codebook: Codebook) -> dict[str, Target]:
    respondent = codebook.respondent
    plan = {fold(c): Target("field", c) for c in (respondent.id_column, respondent.submitted_at_column,
                                                  *([respondent.trust.column] if respondent.trust is not None else []))}
    plan.update({fold(f.column): Target("single", f.column) for f in respondent.fields})
    plan.update({fold(c): Target("field", c) for c in respondent.personal_data})
    for question in codebook.questions:
        if question.type == "multiple":
            # Kept as delivered: the schema checks the cells are 0 or 1.
            plan.update({fold(c): Target("field", c, question) for c in question.option_columns})
            if question.renamed_from:  # a file of a wave before the rename
                plan.update({fold(f"{question.renamed_from}.{o.id}"): Target("field", question.option_column(o.id), question)
                             for o in question.options})
        else:
            plan[fold(question.id)] = Target(question.answer_kind, question.id, question)
            if question.renamed_from:  # a file of a wave before the rename
                plan[fold(question.renamed_from)] = plan[fold(question.id)]
    return plan


def looks_like(header: list, codebook: Codebook) -> bool:
    return fold(codebook.respondent.id_column) in {fold(str(h)) for h in header if h}


def column_plan(path: Path, headings: list[str], codebook: Codebook) -> list[Target]:
    """What each column of a plain CSV holds, from its header; raises ``WaveFileRejected`` for a header
    that does not fit the codebook (unknown, doubled or missing columns)."""
    known = plan_for(codebook)
    # A column with no heading is what a spreadsheet re-saving a CSV leaves at the end: empty, not a
    # question. One that holds values is refused where the values are seen (``refuse_unheaded_values``).
    plan = [known.get(fold(heading)) if heading.strip() else IGNORE for heading in headings]
    refuse_unmatched(path, plan, headings, codebook)
    present = {t.column for t in plan if t is not None}
    for question in codebook.questions:
        missing = [c for c in question.option_columns if c not in present]
        if missing and (question.required or len(missing) < len(question.option_columns)):
            raise WaveFileRejected(path, f"required columns are missing: {', '.join(missing)}")
    refuse_double_mapping(path, plan, headings)
    refuse_missing(path, plan, codebook)
    return plan


def refuse_unheaded_values(path: Path, headings: list[str], filled_rows: dict[int, int]) -> None:
    """``filled_rows``: for each column without a heading, the rows with a value in it."""
    filled = {i: n for i, n in filled_rows.items() if n}
    if filled:
        where = ", ".join(f"column {i + 1} ({n:,} rows)" for i, n in sorted(filled.items()))
        raise WaveFileRejected(path, f"a column without a heading holds values: {where}; give it the heading of its "
                               "question, or delete it")


def unheaded(headings: list[str]) -> list[int]:
    return [i for i, heading in enumerate(headings) if not heading.strip()]


def read(path: Path, data: bytes, codebook: Codebook, limits: ReadLimits | None = None) -> WaveFile:
    grid = text_grid(path, data, limits, header_rows=1)
    headings = [str(h or "") for h in grid.headers[0]]
    refuse_unheaded_values(path, headings, {i: sum(1 for r in grid.records if str(r[i] or "").strip())
                                            for i in unheaded(headings)})
    return finish(path, NAME, grid, column_plan(path, headings, codebook), headings, codebook)
