"""Counting a wave's answers by trust: what every indicator, trust-weighted share and breakdown adds up.

``trust_question_bases`` holds, per trust, the respondents who answered each question, and
``trust_share_numerators`` those counted by each share indicator (zeros included, with the option ids
counted, so that a later change of the catalogue can be told). They are counted two ways, with the
counting rules of the macros at the end of ``schema.sql`` (a respondent is in a question's base if they chose
an option or ticked one, other than an option excluded from the base such as "Don't know"; a share counts a
respondent once however many of its options they ticked):

- as a wave is loaded, from its valid rows while they are still one row per respondent: one scan grouped
  by trust, no join of millions of long rows to their respondents, no DISTINCT;
- from the long ``responses`` (``trust_*_rows.sql``), when the counts are missing, come from an earlier
  load, or do not match the indicator catalogue any more.

``tests/test_warehouse.py`` checks that both ways give the same counts.

What does not belong here: the indicators themselves (``warehouse.indicators``, ``warehouse.breakdowns``).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from schemas.codebook import Codebook
from sql_text import identifier
from warehouse.connection import read_sql, transaction

COUNT_TABLES = {"trust_question_bases": "trust_question_base_rows", "trust_share_numerators": "trust_share_numerator_rows"}


def _ticked(columns: list[str]) -> str:
    # As text: a column pandas holds with no value at all reaches DuckDB untyped.
    return "(" + " OR ".join(f"{identifier(c)}::VARCHAR = '1'" for c in columns) + ")"


def count_staged_wave(con: duckdb.DuckDBPyConnection, codebook: Codebook, wave_id: str, staged: str) -> None:
    """Count the wave by trust from ``staged`` (a relation of its valid rows in the plain layout: canonical
    labels, 0/1 option columns, ``trust_code``), replacing its counts; call inside the load's transaction,
    after the load log is written."""
    survey_id = codebook.survey_id
    params = {"survey_id": survey_id, "wave_id": wave_id}
    columns = {row[0] for row in con.execute(f"DESCRIBE {staged}").fetchall()}
    # The questions answered in `responses`, with the options asked in this wave that count in the base.
    asked = [(q.id, q.answer_kind, [o.id for o in q.base_options], len(q.base_options) < len(q.options))
             for q in codebook.for_wave(wave_id).choice_questions]
    labels = dict(((q, o), label) for q, o, label in con.execute(
        "SELECT question_id, option_id, label FROM options WHERE survey_id = ?", [survey_id]).fetchall())
    shares = con.execute("SELECT indicator_id, question_id, option_ids FROM asked_shares($survey_id, $wave_id) "
                         "ORDER BY indicator_id", params).fetchall()
    counts, arguments = [], []
    kinds = {q: kind for q, kind, *_ in asked}
    for question_id, kind, options, some_excluded in asked:
        if kind == "single" and not some_excluded:
            counts.append(("base", question_id, None, f"count({identifier(question_id)})"))
        elif kind == "single":  # "Don't know" and the like are answers, but not in the base
            arguments.append([labels[(question_id, o)] for o in options])
            counts.append(("base", question_id, None,
                           f"count_if(list_contains(${len(arguments)}, {identifier(question_id)}::VARCHAR))"))
        else:
            present = [c for c in (f"{question_id}.{o}" for o in sorted(options)) if c in columns]
            counts.append(("base", question_id, None, f"count_if({_ticked(present)})" if present else "0"))
    for indicator_id, question_id, option_ids in shares:
        kind = kinds[question_id]
        if kind == "single":
            arguments.append([labels[(question_id, o)] for o in option_ids])
            expression = f"count_if(list_contains(${len(arguments)}, {identifier(question_id)}::VARCHAR))"
        else:
            expression = f"count_if({_ticked([f'{question_id}.{o}' for o in option_ids])})"
        counts.append(("share", indicator_id, list(option_ids), expression))
    aggregates = ", ".join(f"coalesce({expression}, 0) AS c{n}" for n, (*_, expression) in enumerate(counts))
    by_trust = con.execute(f"SELECT trust_code, {aggregates} FROM {staged} GROUP BY trust_code", arguments).fetchall()
    bases, numerators = [], []
    for trust_code, *values in by_trust:
        for (kind, subject, option_ids, _), value in zip(counts, values):
            if kind == "base" and value > 0:  # as the long count: no row for a question nobody answered
                bases.append((survey_id, wave_id, trust_code, subject, value))
            elif kind == "share":
                numerators.append((survey_id, wave_id, trust_code, subject, option_ids, value))
    _replace(con, params, {
        "trust_question_bases": pd.DataFrame(
            bases, columns=["survey_id", "wave_id", "trust_code", "question_id", "answered"]),
        "trust_share_numerators": pd.DataFrame(
            numerators, columns=["survey_id", "wave_id", "trust_code", "indicator_id", "option_ids", "ticked"]),
    })


def _replace(con: duckdb.DuckDBPyConnection, params: dict, rows: dict[str, pd.DataFrame | str]) -> None:
    """Replace the wave's rows of each count table with a frame or the rows a query selects, and record
    which load they come from."""
    for table, new in rows.items():
        con.execute(f"DELETE FROM {table} WHERE survey_id = $survey_id AND wave_id = $wave_id", params)
        if isinstance(new, str):
            con.execute(f"INSERT INTO {table} BY NAME {new}", params)
        elif len(new):
            con.register("count_rows", new)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM count_rows")
            con.unregister("count_rows")
        con.execute(read_sql("record_wave_result"), {**params, "table": table})


def counts_are_current(con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str) -> bool:
    """Whether the wave's counts come from its latest load and match the indicator catalogue as it is."""
    return bool(con.execute(read_sql("current_trust_counts"), {"survey_id": survey_id, "wave_id": wave_id}).fetchone()[0])


def count_wave_from_responses(con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str) -> None:
    """Count the wave by trust from its long responses and the catalogue as they are now, in one transaction."""
    params = {"survey_id": survey_id, "wave_id": wave_id}
    with transaction(con):
        _replace(con, params, {table: read_sql(query) for table, query in COUNT_TABLES.items()})


def ensure_counts(con: duckdb.DuckDBPyConnection, survey_id: str, wave_id: str) -> None:
    """Counts by trust the indicator steps can add up: those of the load, else counted again."""
    if not counts_are_current(con, survey_id, wave_id):
        count_wave_from_responses(con, survey_id, wave_id)
