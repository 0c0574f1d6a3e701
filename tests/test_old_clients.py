"""The published warehouse opens in the DuckDB clients analysts have, which lag the pipeline's duckdb 2:
the DuckDB 1.5 shell and Python's duckdb 1.4, real programs from `make clients`, each reading the sample
warehouse's tables, views and comments, and running the analysts' cross-tabulations, with the same
results as the pipeline's own duckdb."""

from __future__ import annotations

import json

import duckdb
import pytest

from sql_text import identifier, literal
from tests.test_analyst_docs import SAMPLE_VIEWS, crosstab_queries
from warehouse.dictionary import published_tables

CATALOG_QUERIES = [
    "select table_name, comment from duckdb_tables() where not internal order by table_name",
    "select view_name, comment from duckdb_views() where not internal order by view_name",
    "select table_name, column_name, comment from duckdb_columns() where not internal "
    "order by table_name, column_index",
]
VIEW_QUERIES = [f"select * from {identifier(view)} order by all" for view in sorted(SAMPLE_VIEWS)]


def _counts_query() -> str:
    names = sorted([t.name for t in published_tables()] + list(SAMPLE_VIEWS))
    return " union all ".join(f"select {literal(n)} as name, count(*) as n from {identifier(n)}" for n in names) \
        + " order by name"


def _as_json(rows) -> list[list]:
    return json.loads(json.dumps([list(row) for row in rows]))


@pytest.fixture(scope="module")
def expected(demo_run) -> dict[str, list[list]]:
    """What the pipeline's own duckdb reads in the sample warehouse, by query."""
    queries = CATALOG_QUERIES + VIEW_QUERIES + [_counts_query()] + crosstab_queries()
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        results = {query: _as_json(con.execute(query).fetchall()) for query in queries}
    views = results[CATALOG_QUERIES[1]]
    assert {name for name, _ in views} == SAMPLE_VIEWS and all(comment for _, comment in views)
    assert all(rows for rows in results.values())  # nothing compared is empty
    return results


def _refuses_duckdb_2s_own_format(run, tmp_path) -> bool:
    """Whether a client refuses a file in duckdb 2's own format: else the tests here would prove nothing."""
    newest = tmp_path / "duckdb2.duckdb"
    with duckdb.connect(str(newest)) as con:
        con.execute("create table t as select 1 as a")
    done = run(newest)
    return done.returncode != 0 and "version number" in done.stderr


def test_the_duckdb_1_5_shell_reads_the_tables_views_and_comments(old_clients, demo_run, expected, tmp_path):
    assert old_clients.versions()[0].startswith("v1.5.")
    assert _refuses_duckdb_2s_own_format(lambda path: old_clients.run_shell(path, "select a from t"), tmp_path)
    for query, rows in expected.items():
        assert old_clients.shell_rows(demo_run.warehouse, query) == rows, query


def test_python_duckdb_1_4_reads_the_tables_views_and_comments(old_clients, demo_run, expected, tmp_path):
    assert old_clients.versions()[1].startswith("1.4.")
    assert _refuses_duckdb_2s_own_format(lambda path: old_clients.run_python(path, ["select a from t"]), tmp_path)
    queries = list(expected)
    results = old_clients.python_rows(demo_run.warehouse, queries)
    for query, rows in zip(queries, results):
        assert rows == expected[query], query
