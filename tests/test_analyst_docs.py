"""The analysts' page and the README say what the published file holds: its data dictionary is the one
in the file, their dictionary queries list the warehouse's tables, views and columns and nothing of
DuckDB's own, each example query runs against the sample warehouse and returns rows, and the
cross-tabulations give the numbers that counting the tables gives."""

from __future__ import annotations

import re
from collections import Counter

import duckdb
import pytest

from home.settings import PROJECT_ROOT
from schemas.codebook_files import BUNDLED_CODEBOOKS_DIR, load_codebook
from tests.conftest import read_sample
from warehouse.analyst_queries import run_query
from warehouse.connection import connect
from warehouse.dictionary import markdown, private_tables, published_tables, published_views

PAGE = PROJECT_ROOT / "docs" / "for-analysts.md"
README = PROJECT_ROOT / "README.md"
# Typed here, not derived: the views the sample warehouse must hold.
SAMPLE_VIEWS = {"responses_labelled", "improvement_journey_wide", "staff_pulse_wide"}


def _queries(section: str, path=PAGE) -> list[str]:
    text = path.read_text(encoding="utf-8")
    part = text.split(section, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", part, flags=re.S)


def _examples() -> list[str]:
    return _queries("## Ten queries analysts ask most")


def crosstab_queries() -> list[str]:
    """The cross-tabulations of the analysts' page, in its order."""
    return _queries("## Cross-tabulations: the views")


def test_the_page_has_ten_example_queries():
    assert len(_examples()) == 10


@pytest.mark.parametrize("number", range(1, 11))
def test_each_example_query_runs_on_the_sample_warehouse(number, demo_run):
    result = run_query(demo_run.warehouse, _examples()[number - 1])
    assert result.rows, f"query {number} returned no row"


def test_the_dictionary_on_the_page_is_the_one_in_the_file():
    text = PAGE.read_text(encoding="utf-8")
    on_page = text.split("<!-- dictionary:start -->\n", 1)[1].split("<!-- dictionary:end -->", 1)[0]
    assert on_page == markdown(), "regenerate the page's dictionary: survey dictionary"


def test_every_published_table_and_column_is_described_in_the_file(demo_run, codebook):
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        tables = dict(con.execute("select table_name, comment from duckdb_tables() where not internal").fetchall())
        views = dict(con.execute("select view_name, comment from duckdb_views() where not internal").fetchall())
        columns = con.execute(
            "select table_name, column_name, comment from duckdb_columns() where not internal"
        ).fetchall()
    assert set(tables) == {t.name for t in published_tables()}
    assert set(views) == SAMPLE_VIEWS
    assert not [t for t, comment in {**tables, **views}.items() if not comment]
    assert not [f"{t}.{c}" for t, c, comment in columns if not comment]
    # and the dictionary names no column the file lacks
    codebooks = [load_codebook(path) for path in sorted(BUNDLED_CODEBOOKS_DIR.glob("*.yaml"))]
    described = {(t.name, c) for t in published_tables() + published_views(codebooks) for c in t.columns}
    assert described == {(t, c) for t, c, _ in columns}
    assert "improvement-journey" in tables["questions"]  # the surveys, from their codebooks
    assert "improvement-journey" in views["improvement_journey_wide"]
    comments = {(t, c): comment for t, c, comment in columns}
    # a question's column says which question it is, in the codebook's words
    assert comments[("improvement_journey_wide", "trust_barriers.funding")].startswith(
        "Barriers to improvement at the trust: Lack of funding.")


def test_the_readme_dictionary_query_lists_only_the_warehouse_columns(demo_run):
    """DuckDB's catalog functions list its own system views too: the README's query must leave them out."""
    [query] = [q for q in _queries("## For analysts: connecting to the warehouse", README) if "duckdb_columns" in q]
    rows = run_query(demo_run.warehouse, query).rows
    codebooks = [load_codebook(path) for path in sorted(BUNDLED_CODEBOOKS_DIR.glob("*.yaml"))]
    described = {(t.name, c) for t in published_tables() + published_views(codebooks) for c in t.columns}
    assert {(table, column) for table, column, _ in rows} == described
    assert len(rows) == len(described) and all(comment for _, _, comment in rows)


def test_the_analysts_dictionary_queries_list_only_the_warehouse(demo_run):
    every_name, one_table = _queries("## The data dictionary in the file")
    names = run_query(demo_run.warehouse, every_name).rows
    assert sorted((name, kind) for name, kind, _ in names) == sorted(
        [(t.name, "table") for t in published_tables()] + [(v, "view") for v in SAMPLE_VIEWS])
    columns = run_query(demo_run.warehouse, one_table).rows
    [headline] = [t for t in published_tables() if t.name == "headline_indicators"]
    assert [(name, comment) for name, _, comment in columns] == list(headline.columns.items())


def _pivot(result) -> dict[tuple[str, str], int]:
    """A PIVOT's cells as (row, column) -> count, empty cells left out."""
    return {(row[0], column): n for row in result.rows for column, n in zip(result.columns[1:], row[1:]) if n}


def test_the_crosstab_of_approach_stage_by_trust_type_counts_what_the_tables_hold(demo_run):
    by_type, _ = crosstab_queries()
    result = run_query(demo_run.warehouse, by_type)
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        expected = con.execute(
            """
            select o.label, t.trust_type, count(*)
            from responses as a
            join respondents as r on r.survey_id = a.survey_id and r.wave_id = a.wave_id
                                 and r.respondent_id = a.respondent_id
            join trusts as t on t.ods_code = r.trust_code
            join options as o on o.survey_id = a.survey_id and o.question_id = a.question_id
                             and o.option_id = a.option_id
            where a.wave_id = '2025' and a.question_id = 'trust_approach_stage'
            group by all
            """
        ).fetchall()
    assert result.columns[0] == "trust_approach_stage"
    assert _pivot(result) == {(label, trust_type): n for label, trust_type, n in expected}
    assert sum(_pivot(result).values()) == len(read_sample("2025"))  # every respondent of the wave, once


def test_the_crosstab_of_a_barrier_by_role_counts_what_the_delivered_file_holds(demo_run):
    _, by_role = crosstab_queries()
    result = run_query(demo_run.warehouse, by_role)
    delivered = read_sample("2025")
    ticks = Counter(zip(delivered["role"], delivered["trust_barriers.financial_pressures"]))
    assert result.columns == ["role", "ticked", "not_ticked"]
    assert {role: (ticked, not_ticked) for role, ticked, not_ticked in result.rows} == {
        role: (ticks[(role, "1")], ticks[(role, "0")]) for role in set(delivered["role"])}


def test_every_working_table_is_either_published_or_private(demo_run):
    with connect(demo_run.working, read_only=True) as con:  # the private file attached
        working = {t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()}
    published = {t.name for t in published_tables()}
    assert working - published == set(private_tables())
