"""The views of the analysts' snapshot: the answers with their words, and one wide view per survey.

The published tables hold ids in long format, so a cross-tabulation there takes four joins (answers,
respondents, trusts, options). The views make those joins once, in the file:

- ``responses_labelled`` (``sql/snapshot_views.sql``): every closed answer with the question's wording
  in its wave and the option's label;
- ``<survey>_wide`` (the survey id with ``_`` for ``-``, e.g. ``improvement_journey_wide``), generated
  from the survey's codebook: one row per respondent per wave with their trust's type and region, the
  label of each respondent field (a board role, an occupational group), a column per single-choice question holding the label chosen, and a column per option
  of a multiple-choice question (named ``<question_id>.<option_id>`` as in the plain CSV layout and the
  indicator ids) that is true when ticked, false when the question was answered without ticking it,
  and NULL when the question was not answered or the option was not offered in that wave.

A crosstab is then one ``PIVOT`` of a wide view. What does not belong here: the views' descriptions
(``dictionary.yaml``), and writing the snapshot (``warehouse.publication``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schemas.codebook import Codebook
from schemas.questions import Option, Question
from schemas.respondent import RespondentField
from sql_text import identifier, literal
from warehouse.connection import read_sql

# The columns of every wide view before the questions': who answered, and the trust's attributes that
# crosstabs use.
WIDE_FIXED_COLUMNS = ("survey_id", "wave_id", "respondent_id", "trust_code", "trust_type", "region")


@dataclass(frozen=True)
class WideColumn:
    """A question's column of a wide view: a single-choice or numeric question's (``option`` None), or one
    option's."""

    name: str
    question: Question | RespondentField  # a respondent field is a column of its own, labelled alike
    option: Option | None = None


def wide_view_name(survey_id: str) -> str:
    """The wide view of a survey: its id with underscores (survey ids have none, so no two surveys meet),
    so that analysts need not quote it."""
    return survey_id.replace("-", "_") + "_wide"


def wide_columns(codebook: Codebook) -> list[WideColumn]:
    """The question columns of the survey's wide view, in questionnaire order; every option of every wave."""
    columns: list[WideColumn] = []
    for field in codebook.respondent.fields:  # labelled as single-choice questions are, from `options`
        columns.append(WideColumn(field.column, field))
    for question in codebook.questions:
        if question.answer_kind in ("single", "numeric"):
            columns.append(WideColumn(question.id, question))
        elif question.type == "multiple":
            columns += [WideColumn(question.option_column(o.id), question, o) for o in question.options]
    clash = sorted({c.name for c in columns} & set(WIDE_FIXED_COLUMNS))
    if clash:
        raise ValueError(f"the {codebook.survey_id} codebook has questions named like the wide view's own "
                         f"columns: {', '.join(clash)}")
    return columns


def wide_view_sql(codebook: Codebook) -> str:
    """``CREATE VIEW`` of the survey's wide view. Its ids are placed in the text as literals because a view
    definition can hold no bound parameter."""
    survey = literal(codebook.survey_id)
    columns = wide_columns(codebook)
    multiple = [q for q in codebook.choice_questions if q.type == "multiple"]
    answers, numbers, selected, fields = [], [], [], []
    for column in columns:
        name = identifier(column.name)
        if column.question in codebook.respondent.fields:
            fields.append(f"any_value(o.label) FILTER (WHERE f.field_id = {literal(column.name)}) AS {name}")
            selected.append(f"f.{name}")
            continue
        question = literal(column.question.id)
        if column.question.type == "numeric":
            numbers.append(f"any_value(value) FILTER (WHERE question_id = {question}) AS {name}")
            selected.append(f"n.{name}")
        elif column.option is None:
            answers.append(f"any_value(o.label) FILTER (WHERE a.question_id = {question}) AS {name}")
            selected.append(f"a.{name}")
        else:
            # No row for the question: not answered, so NULL; rows but none for this option: false.
            answers.append(f"bool_or(a.option_id = {literal(column.option.id)}) "
                           f"FILTER (WHERE a.question_id = {question}) AS {name}")
            # An option the wave did not offer was not asked: NULL, not false.
            selected.append(f"CASE WHEN list_contains(w.{identifier(column.question.id)}, {literal(column.option.id)}) "
                            f"THEN a.{name} END AS {name}")
    offered = [f"any_value(option_ids) FILTER (WHERE question_id = {literal(q.id)}) AS {identifier(q.id)}"
               for q in multiple]
    fields_cte = f""",
fields AS (
    SELECT {_list(["f.wave_id", "f.respondent_id", *fields])}
    FROM respondent_fields AS f
    JOIN options AS o ON o.survey_id = f.survey_id AND o.question_id = f.field_id AND o.option_id = f.option_id
    WHERE f.survey_id = {survey}
    GROUP BY f.wave_id, f.respondent_id
)""" if fields else ""
    fields_join = ("\nLEFT JOIN fields AS f ON f.wave_id = r.wave_id AND f.respondent_id = r.respondent_id"
                   if fields else "")
    numbers_cte = f""",
numbers AS (
    SELECT {_list(["wave_id", "respondent_id", *numbers])}
    FROM numeric_responses
    WHERE survey_id = {survey}
    GROUP BY wave_id, respondent_id
)""" if numbers else ""
    numbers_join = ("\nLEFT JOIN numbers AS n ON n.wave_id = r.wave_id AND n.respondent_id = r.respondent_id"
                    if numbers else "")
    return f"""CREATE VIEW {identifier(wide_view_name(codebook.survey_id))} AS
WITH answers AS (
    SELECT {_list(["a.wave_id", "a.respondent_id", *answers])}
    FROM responses AS a
    LEFT JOIN options AS o
           ON o.survey_id = a.survey_id AND o.question_id = a.question_id AND o.option_id = a.option_id
    WHERE a.survey_id = {survey}
    GROUP BY a.wave_id, a.respondent_id
),
offered AS (
    SELECT {_list(["wave_id", *offered])}
    FROM wave_questions
    WHERE survey_id = {survey}
    GROUP BY wave_id
){fields_cte}{numbers_cte}
SELECT {_list(["r.survey_id", "r.wave_id", "r.respondent_id", "r.trust_code", "t.trust_type", "t.region", *selected])}
FROM respondents AS r
LEFT JOIN answers AS a ON a.wave_id = r.wave_id AND a.respondent_id = r.respondent_id{fields_join}{numbers_join}
LEFT JOIN offered AS w ON w.wave_id = r.wave_id
LEFT JOIN trusts AS t ON t.ods_code = r.trust_code
WHERE r.survey_id = {survey}"""


def _list(items: list[str]) -> str:
    return ",\n           ".join(items)


def view_statements(codebooks: Iterable[Codebook]) -> list[str]:
    """The statements creating every view of the snapshot, to run with the snapshot as default database."""
    return [read_sql("snapshot_views"), *(wide_view_sql(codebook) for codebook in codebooks)]
