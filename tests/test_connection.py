"""Opening the working database: its schema is made once and recorded in both files, made again when either file
lacks today's (a new release's schema, a private file lost), and never run needlessly by the connections after."""

from __future__ import annotations

import duckdb

from warehouse.connection import PRIVATE, connect, private_path, schema_digest


def _digests(path) -> tuple[str | None, str | None]:
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("ATTACH ? AS private (READ_ONLY)", [str(private_path(path))])
        found = dict(con.execute("SELECT database_name, macro_definition FROM duckdb_functions() "
                                 "WHERE function_name = 'schema_digest'").fetchall())
    return found.get(path.stem), found.get(PRIVATE)


def _tables(path) -> set[str]:
    with connect(path, read_only=True) as con:
        return {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def test_a_new_working_database_records_todays_schema_in_both_files(tmp_path):
    path = tmp_path / "survey.duckdb"
    with connect(path):
        pass
    working, private = _digests(path)
    assert schema_digest() in working and schema_digest() in private
    assert {"respondents", "responses", "quarantine", "free_text_responses"} <= _tables(path)


def test_a_file_recording_another_schema_is_made_again(tmp_path):
    """As a home of an earlier release is: the schema's SQL runs, and what it creates is there again."""
    path = tmp_path / "survey.duckdb"
    with connect(path) as con:
        con.execute("DROP TABLE trust_mean_sums")
        con.execute("CREATE OR REPLACE MACRO main.schema_digest() AS 'an earlier schema'")
    with connect(path):
        pass
    assert "trust_mean_sums" in _tables(path)
    assert schema_digest() in _digests(path)[0]


def test_a_lost_private_file_is_made_again_with_its_tables(tmp_path):
    path = tmp_path / "survey.duckdb"
    with connect(path):
        pass
    private_path(path).unlink()
    with connect(path) as con:
        assert con.execute("SELECT count(*) FROM private.quarantine").fetchone() == (0,)
    assert schema_digest() in _digests(path)[1]


def test_a_file_with_todays_schema_is_not_made_again(tmp_path):
    """The schema's SQL is skipped: a table dropped behind its back stays dropped (which is how the skip shows)."""
    path = tmp_path / "survey.duckdb"
    with connect(path) as con:
        con.execute("DROP TABLE trust_mean_sums")
    with connect(path):
        pass
    assert "trust_mean_sums" not in _tables(path)
