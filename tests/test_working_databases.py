"""One working database per survey: an earlier release's shared working database is split by survey on first use,
each survey keeping exactly its own rows, private values included; and the analysts' warehouse combined from the
surveys' snapshots holds every survey's published rows."""

from __future__ import annotations

import shutil

import duckdb

from home.settings import SurveyHome
from tests.conftest import SURVEY_ID
from tests.processes import table_rows
from warehouse.connection import private_path
from warehouse.working_databases import split_shared_working_database

STAFF = "staff-pulse"
BOOKKEEPING = {"rebuild_reasons"}  # the split notes that the file must be rebuilt before it is copied


def _survey_tables(con: duckdb.DuckDBPyConnection, database: str) -> list[str]:
    return [t for (t,) in con.execute("SELECT DISTINCT table_name FROM duckdb_columns() WHERE database_name = ? "
                                      "AND column_name = 'survey_id'", [database]).fetchall()]


def _merge(first, second, target) -> None:
    """A file holding both surveys' rows, as the shared working database of an earlier release held them."""
    shutil.copyfile(first, target)
    with duckdb.connect() as con:
        con.execute("ATTACH ? AS shared", [str(target)])
        con.execute("ATTACH ? AS other (READ_ONLY)", [str(second)])
        for table in _survey_tables(con, "other"):
            con.execute(f'INSERT INTO shared.main."{table}" BY NAME SELECT * FROM other.main."{table}"')


def test_a_shared_working_database_is_split_by_survey_keeping_every_row(demo_run, tmp_path):
    home = SurveyHome(tmp_path)
    board, staff = demo_run.working_of(SURVEY_ID), demo_run.working_of(STAFF)
    home.working_dir.mkdir(parents=True)
    _merge(board, staff, home.shared_working_path)
    _merge(private_path(board), private_path(staff), private_path(home.shared_working_path))
    with duckdb.connect(str(home.shared_working_path), read_only=True) as con:
        assert dict(con.execute("SELECT survey_id, count(*) FROM respondents GROUP BY ALL").fetchall()) == {
            SURVEY_ID: 389, STAFF: 8118}

    assert split_shared_working_database(home) == [SURVEY_ID, STAFF]

    assert not home.shared_working_path.exists() and not private_path(home.shared_working_path).exists()
    for survey_id, original in ((SURVEY_ID, board), (STAFF, staff)):
        split = home.working_path(survey_id)
        assert table_rows(split, ignore=set()) | dict.fromkeys(BOOKKEEPING) == \
            table_rows(original, ignore=set()) | dict.fromkeys(BOOKKEEPING), survey_id
        assert table_rows(private_path(split)) == table_rows(private_path(original)), survey_id
    assert split_shared_working_database(home) == []  # once only


def test_the_analysts_warehouse_holds_each_surveys_snapshot_whole(demo_run):
    """Combined from the surveys' own snapshots: each survey's rows in every table as its snapshot has them, the
    trust reference list once, and a wide view per survey."""
    home = SurveyHome(demo_run.home)
    with duckdb.connect(str(home.warehouse_path), read_only=True) as con:
        for survey_id in (SURVEY_ID, STAFF):
            con.execute("ATTACH ? AS part (READ_ONLY)", [str(home.snapshot_path(survey_id))])
            for table in _survey_tables(con, "part"):
                [(missing,)] = con.execute(f'SELECT count(*) FROM (FROM part.main."{table}" EXCEPT ALL '
                                           f'FROM "{table}" WHERE survey_id = ?)', [survey_id]).fetchall()
                [(extra,)] = con.execute(f'SELECT count(*) FROM (FROM "{table}" WHERE survey_id = ? EXCEPT ALL '
                                         f'FROM part.main."{table}")', [survey_id]).fetchall()
                assert (missing, extra) == (0, 0), (survey_id, table)
            con.execute("DETACH part")
        assert con.execute("SELECT count(*), count(DISTINCT ods_code) FROM trusts").fetchone() == (202, 202)
        views = {v for (v,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert {"improvement_journey_wide", "staff_pulse_wide", "responses_labelled"} <= views


def test_a_survey_not_yet_published_by_this_release_keeps_its_rows_when_another_is_combined(demo_run, tmp_path):
    """A home just split has no survey snapshot yet: the first survey to publish must not drop the others from the
    analysts' warehouse. They are carried over from the warehouse as analysts have it."""
    from warehouse.combined_publication import combine_snapshots

    home = SurveyHome(demo_run.home)
    target = tmp_path / "survey.duckdb"
    shutil.copyfile(home.warehouse_path, target)  # both surveys, as published before
    codebooks = [home.codebooks[SURVEY_ID], home.codebooks[STAFF]]

    combine_snapshots([home.snapshot_path(SURVEY_ID)], target, codebooks, "run-x", 1024,
                      fresh=home.snapshot_path(SURVEY_ID), carried=[STAFF])

    with duckdb.connect(str(target), read_only=True) as con, \
            duckdb.connect(str(home.warehouse_path), read_only=True) as before:
        query = "SELECT survey_id, wave_id, count(*) FROM respondents GROUP BY ALL ORDER BY ALL"
        assert con.execute(query).fetchall() == before.execute(query).fetchall()
        assert con.execute("SELECT count(*) FROM staff_pulse_wide").fetchone()[0] == 8118

    combine_snapshots([home.snapshot_path(SURVEY_ID)], target, codebooks, "run-y", 1024,
                      fresh=home.snapshot_path(SURVEY_ID))  # nothing carried: the snapshots alone
    with duckdb.connect(str(target), read_only=True) as con:
        assert {s for (s,) in con.execute("SELECT DISTINCT survey_id FROM respondents").fetchall()} == {SURVEY_ID}


def test_the_combined_file_is_built_on_the_largest_snapshot_with_todays_columns(tmp_path):
    """A snapshot an earlier release wrote (a column fewer) is never the base, however large: the comments of today's
    columns would fail on it. The largest snapshot with the fresh one's tables and columns is; without one, the
    fresh snapshot itself."""
    from warehouse.combined_publication import _base

    def snapshot(name: str, columns: str, rows: int):
        path = tmp_path / f"{name}.duckdb"
        with duckdb.connect(str(path)) as con:
            con.execute(f"CREATE TABLE respondents ({columns})")
            con.execute(f"INSERT INTO respondents SELECT {', '.join(['?'] + ['range'] * (columns.count(',')))} "
                        "FROM range(?)", [name, rows])
        return path

    old = snapshot("old", "survey_id VARCHAR, a BIGINT", 3_000_000)
    larger = snapshot("larger", "survey_id VARCHAR, a BIGINT, b BIGINT", 500_000)
    fresh = snapshot("fresh", "survey_id VARCHAR, a BIGINT, b BIGINT", 10)
    parts = sorted([old, larger, fresh], key=lambda p: -p.stat().st_size)
    assert parts[0] == old  # the largest file, written by the earlier release
    assert _base(parts, fresh) == larger
    assert _base([old, fresh], fresh) == fresh
    assert _base(parts, None) == old  # no fresh snapshot to compare with: the largest
