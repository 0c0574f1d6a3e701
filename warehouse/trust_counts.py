"""Counting a wave's answers by trust: what every indicator, trust-weighted share and breakdown adds up.

``trust_question_bases`` holds, per trust, the respondents who answered each question,
``trust_share_numerators`` those counted by each share indicator (zeros included, with the option ids or
the range counted, so that a later change of the catalogue can be told), and ``trust_mean_sums`` those
counted by each mean indicator with the sum of their values and of their squares (an item's score, a number,
a respondent's mean score on a theme's items). They are counted two ways, with the counting rules of the
macros at the end of ``schema.sql`` (a respondent is in a question's base if they chose an option or ticked
one, other than an option excluded from the base such as "Don't know", or gave a number; a share counts a
respondent once however many of its options they ticked; a theme counts a respondent who answered at least
its ``min_items``):

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

# The key a survey that asks no trust counts all its respondents under (the tables' trust_code is their key; the
# macro in schema.sql, `counted_trust`, writes it the same way).
NO_TRUST = ""
COUNT_TABLES = {"trust_question_bases": "trust_question_base_rows", "trust_share_numerators": "trust_share_numerator_rows",
                "trust_mean_sums": "trust_mean_sum_rows"}


def _ticked(columns: list[str]) -> str:
    # As text: a column pandas holds with no value at all reaches DuckDB untyped.
    return "(" + " OR ".join(f"{identifier(c)}::VARCHAR = '1'" for c in columns) + ")"


def _answers_given(codebook: Codebook, columns: set[str]) -> str:
    """SQL of the answers a staged wave gives that the load stores (respondent fields, options chosen or
    ticked, numbers): the load's reconciliation compares them with the answers stored."""
    given = [f"count({identifier(f.column)})" for f in codebook.respondent.fields if f.column in columns]
    for question in codebook.questions:
        if question.type == "multiple":
            # Not count_if, which is NULL over a column of nothing but NULLs (a question nobody answered).
            given += [f"count(*) FILTER (WHERE {identifier(c)}::VARCHAR = '1')" for c in question.option_columns
                      if c in columns]
        elif question.type != "text" and question.id in columns:
            given.append(f"count({identifier(question.id)})")
    return " + ".join(given) or "0"


def count_staged_wave(con: duckdb.DuckDBPyConnection, codebook: Codebook, wave_id: str, staged: str) -> int:
    """Count the wave by trust from ``staged`` (a relation of its valid rows in the plain layout: canonical
    labels, 0/1 option columns, numbers as canonical text, ``trust_code``), replacing its counts; call inside
    the load's transaction, after the load log is written. Returns the answers the wave gives that the load
    stores, counted in the same scan (a second pass over a million wide rows cost a second or two)."""
    survey_id = codebook.survey_id
    params = {"survey_id": survey_id, "wave_id": wave_id}
    columns = {row[0] for row in con.execute(f"DESCRIBE {staged}").fetchall()}
    asked_questions = codebook.for_wave(wave_id).questions
    # The questions answered in `responses`, with the options asked in this wave that count in the base.
    asked = [(q.id, q.answer_kind, [o.id for o in q.base_options], len(q.base_options) < len(q.options))
             for q in asked_questions if q.type != "text"]
    options = con.execute("SELECT question_id, option_id, label, score FROM options WHERE survey_id = ?",
                          [survey_id]).fetchall()
    labels = {(q, o): label for q, o, label, _ in options}
    arguments: list = []

    def bound(value) -> str:  # a value the statement takes as a parameter
        arguments.append(value)
        return f"${len(arguments)}"

    counts, kinds = [], {q: kind for q, kind, *_ in asked}
    for question_id, kind, base_options, some_excluded in asked:
        if kind in ("single", "numeric") and not some_excluded:
            counts.append(("base", question_id, None, f"count({identifier(question_id)})"))
        elif kind == "single":  # "Don't know" and the like are answers, but not in the base
            in_base = bound([labels[(question_id, o)] for o in base_options])
            counts.append(("base", question_id, None,
                           f"count_if(list_contains({in_base}, {identifier(question_id)}::VARCHAR))"))
        else:
            present = [c for c in (f"{question_id}.{o}" for o in sorted(base_options)) if c in columns]
            counts.append(("base", question_id, None, f"count_if({_ticked(present)})" if present else "0"))
    shares = con.execute("SELECT indicator_id, question_id, option_ids, range_low, range_high "
                         "FROM asked_shares($survey_id, $wave_id) ORDER BY indicator_id", params).fetchall()
    for indicator_id, question_id, option_ids, low, high in shares:
        column = identifier(question_id)
        if low is not None:  # a range of a numeric question's answers
            expression = f"count_if(CAST({column} AS DOUBLE) BETWEEN {bound(low)} AND {bound(high)})"
        elif kinds[question_id] == "single":
            expression = f"count_if(list_contains({bound([labels[(question_id, o)] for o in option_ids])}, {column}::VARCHAR))"
        else:
            expression = f"count_if({_ticked([f'{question_id}.{o}' for o in option_ids])})"
        counts.append(("share", indicator_id, (list(option_ids), low, high), expression))
    scores = {(q, label): score for q, _, label, score in options if score is not None}
    values = []  # per mean indicator: the SQL of each counted respondent's value
    for indicator_id, items, min_items in con.execute(
            "SELECT indicator_id, items, min_items FROM asked_means($survey_id, $wave_id) ORDER BY indicator_id",
            params).fetchall():
        item_values = [_item_value(q, scores, bound) for q in items]
        if len(item_values) == 1:
            value = item_values[0]
        else:  # a theme: the mean of the items answered, for those who answered at least min_items
            given = " + ".join(f"({v} IS NOT NULL)::INTEGER" for v in item_values)
            total = " + ".join(f"coalesce({v}, 0)" for v in item_values)
            value = f"CASE WHEN ({given}) >= {bound(min_items)} THEN ({total}) / ({given}) END"
        values.append(value)
        column = f"m{len(values) - 1}"
        counts.append(("mean", indicator_id, (list(items), min_items),
                       (f"count({column})", f"fsum({column})", f"fsum({column} * {column})")))
    aggregates = []
    for n, (kind, *_, expression) in enumerate(counts):
        parts = expression if kind == "mean" else (expression,)
        aggregates += [f"coalesce({part}, 0) AS c{n}_{m}" for m, part in enumerate(parts)]
    source = f"(SELECT *, {', '.join(f'{v} AS m{n}' for n, v in enumerate(values))} FROM {staged})" if values else staged
    trust = codebook.respondent.trust
    trust_code = identifier(trust.column) if trust is not None else f"'{NO_TRUST}'"
    by_trust = con.execute(f"SELECT {trust_code} AS trust_code, {_answers_given(codebook.for_wave(wave_id), columns)} "
                           f"AS answers, {', '.join(aggregates)} FROM {source} GROUP BY ALL", arguments).fetchall()
    rows: dict[str, list] = {"base": [], "share": [], "mean": []}
    answers_given = 0
    for trust_code, answers, *results in by_trust:
        answers_given += answers
        found = iter(results)
        for kind, subject, definition, expression in counts:
            result = [next(found) for _ in (expression if kind == "mean" else (expression,))]
            if kind == "base" and result[0] > 0:  # as the long count: no row for a question nobody answered
                rows["base"].append((survey_id, wave_id, trust_code, subject, result[0]))
            elif kind == "share":
                rows["share"].append((survey_id, wave_id, trust_code, subject, *definition, result[0]))
            elif kind == "mean":
                rows["mean"].append((survey_id, wave_id, trust_code, subject, *definition, *result))
    _replace(con, params, {
        "trust_question_bases": pd.DataFrame(
            rows["base"], columns=["survey_id", "wave_id", "trust_code", "question_id", "answered"]),
        "trust_share_numerators": pd.DataFrame(
            rows["share"], columns=["survey_id", "wave_id", "trust_code", "indicator_id", "option_ids", "range_low",
                                    "range_high", "ticked"]),
        "trust_mean_sums": pd.DataFrame(
            rows["mean"], columns=["survey_id", "wave_id", "trust_code", "indicator_id", "items", "min_items",
                                   "answered", "total", "total_squares"]),
    })
    return answers_given


def _item_value(question_id: str, scores: dict, bound) -> str:
    """The SQL of a respondent's value on one question: the score of the option chosen (none for an option
    out of the base), or the number given."""
    labelled = [(label, score) for (q, label), score in scores.items() if q == question_id]
    column = identifier(question_id)
    if not labelled:
        return f"CAST({column} AS DOUBLE)"
    return (f"list_extract(CAST({bound([s for _, s in labelled])} AS DOUBLE[]), "
            f"list_position({bound([lb for lb, _ in labelled])}, {column}::VARCHAR))")


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
