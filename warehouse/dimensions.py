"""Dimension tables derived from a codebook and the trust reference list.

``waves``, ``questions``, ``options`` and ``indicators`` are rewritten per survey from its codebook;
``trusts`` from the reference list. Nothing here reads response data.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from schemas.codebook import Codebook
from schemas.indicator_catalogue import indicator_catalogue
from warehouse.connection import transaction


def codebook_frames(codebook: Codebook) -> dict[str, pd.DataFrame]:
    """The survey's dimension rows, by table name, in the tables' column order."""
    survey = codebook.survey_id
    waves = pd.DataFrame(
        [
            (survey, w.id, n, w.fieldwork_start, w.fieldwork_end, w.population_trusts, w.synthetic)
            for n, w in enumerate(codebook.waves, start=1)
        ],
        columns=["survey_id", "wave_id", "wave_order", "fieldwork_start", "fieldwork_end",
                 "population_trusts", "synthetic"],
    )
    fields = codebook.respondent.fields
    # Respondent fields before the questions, the last at order 0 (where the first release kept its one field).
    question_rows = [(survey, f.column, k - len(fields) + 1, "respondent", "single", f.title, f.wording, f.required,
                      None, None, None, None, None, None) for k, f in enumerate(fields)]
    option_rows = [(survey, f.column, o.id, n, o.label, None, True) for f in fields
                   for n, o in enumerate(f.options, start=1)]
    for n, q in enumerate(codebook.questions, start=1):
        route = q.asked_if
        numeric = q.type == "numeric"
        question_rows.append((survey, q.id, n, "question", q.type, q.title, q.wording, q.required, q.grid_stem,
                              route and route.question, route and list(route.options),
                              q.minimum, q.maximum, q.integer if numeric else None))
        option_rows += [(survey, q.id, o.id, m, o.label, o.score, not o.exclude_from_base)
                        for m, o in enumerate(q.options, start=1)]
    questions = pd.DataFrame(
        question_rows,
        columns=["survey_id", "question_id", "question_order", "section", "question_type", "title",
                 "wording", "required", "grid_stem", "asked_if_question", "asked_if_options", "value_min",
                 "value_max", "value_integer"],
    )
    options = pd.DataFrame(option_rows, columns=["survey_id", "question_id", "option_id", "option_order", "label",
                                                 "score", "in_base"])
    indicators = pd.DataFrame(
        [
            (survey, i.id, i.kind, i.label, i.question_id, list(i.option_ids) or None, i.headline_order,
             *(i.between or (None, None)), list(i.items) or None, i.min_items)
            for i in indicator_catalogue(codebook)
        ],
        columns=["survey_id", "indicator_id", "indicator_kind", "label", "question_id", "option_ids",
                 "headline_order", "range_low", "range_high", "items", "min_items"],
    )
    wave_questions = pd.DataFrame(
        [
            (survey, wave.id, q.id, q.wording, [o.id for o in q.options] or None)
            for wave in codebook.waves
            for q in codebook.for_wave(wave.id).questions
        ],
        columns=["survey_id", "wave_id", "question_id", "wording", "option_ids"],
    )
    return {"waves": waves, "questions": questions, "options": options, "indicators": indicators,
            "wave_questions": wave_questions}


# Table names are fixed here, never taken from input, so they may be placed in the SQL text.
_SURVEY_TABLES = ("waves", "questions", "options", "indicators", "wave_questions")


def write_survey_dimensions(con: duckdb.DuckDBPyConnection, codebook: Codebook) -> dict[str, int]:
    """Replace this survey's dimension rows in one transaction; returns rows written per table."""
    frames = codebook_frames(codebook)
    with transaction(con):
        for table in _SURVEY_TABLES:
            con.execute(f"DELETE FROM {table} WHERE survey_id = ?", [codebook.survey_id])
            con.register("dimension_rows", frames[table])
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM dimension_rows")
            con.unregister("dimension_rows")
    return {table: len(frames[table]) for table in _SURVEY_TABLES}


def write_trusts(con: duckdb.DuckDBPyConnection, trusts: pd.DataFrame) -> int:
    """Replace the trusts dimension with the reference list."""
    rows = trusts.rename(columns={"type": "trust_type"})
    with transaction(con):
        con.execute("DELETE FROM trusts")
        con.register("trust_rows", rows)
        con.execute("INSERT INTO trusts BY NAME SELECT * FROM trust_rows")
        con.unregister("trust_rows")
    return len(rows)
