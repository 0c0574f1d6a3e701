"""The analysts' page says what the published file holds: its data dictionary is the one in the file,
and each of its example queries runs against the sample warehouse and returns rows."""

from __future__ import annotations

import re

import duckdb
import pytest

from pipelines.settings import PROJECT_ROOT
from warehouse.analyst_queries import run_query
from warehouse.dictionary import markdown, private_tables, published_tables

PAGE = PROJECT_ROOT / "docs" / "for-analysts.md"


def _examples() -> list[str]:
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("## Ten queries analysts ask most", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.S)


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


def test_every_published_table_and_column_is_described_in_the_file(demo_run):
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        tables = dict(con.execute("select table_name, comment from duckdb_tables() where not internal").fetchall())
        columns = con.execute(
            "select table_name, column_name, comment from duckdb_columns() where not internal"
        ).fetchall()
    assert set(tables) == {t.name for t in published_tables()}
    assert not [t for t, comment in tables.items() if not comment]
    assert not [f"{t}.{c}" for t, c, comment in columns if not comment]
    # and the dictionary names no column the file lacks
    described = {(t.name, c) for t in published_tables() for c in t.columns}
    assert described == {(t, c) for t, c, _ in columns}
    assert "improvement-journey" in tables["questions"]  # the surveys, from their codebooks


def test_every_working_table_is_either_published_or_private(demo_run):
    with duckdb.connect(str(demo_run.working), read_only=True) as con:
        working = {t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()}
    published = {t.name for t in published_tables()}
    assert working - published == set(private_tables())
