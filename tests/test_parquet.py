"""The analysts' warehouse as hive-partitioned Parquet (``warehouse/parquet_publication.py``): the same rows as the
DuckDB snapshot in every table, read by pyarrow and by DuckDB's own Parquet reader; respondent-level partitions
written again only when their wave is loaded again; each file replaced whole; a withdrawn wave's partitions gone."""

from __future__ import annotations

import shutil

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from tests.processes import run_survey
from warehouse.load import RESPONDENT_TABLES
from warehouse.parquet_publication import DATA_FILE, PARQUET_FOLDER, publish_parquet

# Partition values as text, as the snapshot holds them (a wave id such as 2023 is not a number).
HIVE = ds.partitioning(pa.schema([("survey_id", pa.string()), ("wave_id", pa.string())]), flavor="hive")
SURVEY_ONLY = ds.partitioning(pa.schema([("survey_id", pa.string())]), flavor="hive")


def _tables(snapshot) -> dict[str, list[str]]:
    with duckdb.connect(str(snapshot), read_only=True) as con:
        rows = con.execute("SELECT c.table_name, c.column_name FROM duckdb_columns() AS c JOIN duckdb_tables() AS t "
                           "USING (database_name, schema_name, table_name) WHERE c.database_name = current_database() "
                           "ORDER BY c.table_name, c.column_index").fetchall()  # tables: views are made from them
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def _read(root, table: str, columns: list[str]) -> pa.Table:
    partitioning = HIVE if "wave_id" in columns else SURVEY_ONLY if "survey_id" in columns else None
    return ds.dataset(root / table, format="parquet", partitioning=partitioning).to_table().select(columns)


def _differences(snapshot, table: str, arrow: pa.Table) -> tuple[int, int, int]:
    """Rows of the snapshot's table not in the Parquet, rows of the Parquet not in the table (as multisets), and
    the table's rows."""
    with duckdb.connect(str(snapshot), read_only=True) as con:
        con.register("from_parquet", arrow)
        missing = con.execute(f'SELECT count(*) FROM (SELECT * FROM "{table}" EXCEPT ALL SELECT * FROM from_parquet)'
                              ).fetchone()[0]
        extra = con.execute(f'SELECT count(*) FROM (SELECT * FROM from_parquet EXCEPT ALL SELECT * FROM "{table}")'
                            ).fetchone()[0]
        rows = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    return missing, extra, rows


def test_every_table_has_the_snapshots_rows_as_pyarrow_reads_them(demo_run):
    root = demo_run.warehouse.parent / PARQUET_FOLDER
    tables = _tables(demo_run.warehouse)
    assert {"respondents", "responses", "headline_indicators", "trust_benchmarks", "questions", "trusts"} <= set(tables)
    for table, columns in tables.items():
        if not (root / table).exists():  # a table with no rows has no partition
            with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
                assert con.execute(f'SELECT count(*) FROM "{table}"').fetchone() == (0,), table
            continue
        missing, extra, rows = _differences(demo_run.warehouse, table, _read(root, table, columns))
        assert (missing, extra) == (0, 0), f"{table}: {missing} rows missing, {extra} extra of {rows}"
    assert (root / "responses" / "survey_id=improvement-journey" / "wave_id=2023" / DATA_FILE).is_file()


def test_duckdb_reads_the_partitions_as_an_analyst_would(demo_run):
    root = demo_run.warehouse.parent / PARQUET_FOLDER
    with duckdb.connect() as con:
        counts = con.execute(
            "SELECT survey_id, wave_id, count(*) FROM read_parquet(?, hive_partitioning = true, "
            "hive_types = {'survey_id': VARCHAR, 'wave_id': VARCHAR}) GROUP BY ALL ORDER BY ALL",
            [str(root / "respondents" / "*" / "*" / "*.parquet")]).fetchall()
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        expected = con.execute("SELECT survey_id, wave_id, count(*) FROM respondents GROUP BY ALL ORDER BY ALL").fetchall()
    assert counts == expected and len(counts) == 7


def _publish_each_survey(snapshot, root) -> dict[str, int]:
    """Each survey's partitions, as each survey's publication writes its own; the rows written, by table."""
    counts: dict[str, int] = {}
    for survey_id in ("improvement-journey", "staff-pulse"):
        for table, rows in publish_parquet(snapshot, root, survey_id).items():
            counts[table] = counts.get(table, 0) + rows
    return counts


def test_a_second_publication_leaves_the_respondent_rows_of_unchanged_waves_alone(demo_run, tmp_path):
    snapshot = tmp_path / "survey.duckdb"
    shutil.copyfile(demo_run.warehouse, snapshot)
    root = tmp_path / PARQUET_FOLDER
    first = _publish_each_survey(snapshot, root)
    files = {p: p.stat().st_ino for p in root.rglob(DATA_FILE)}

    again = _publish_each_survey(snapshot, root)

    assert all(first[t] > 0 for t in RESPONDENT_TABLES if t != "numeric_responses") and first["numeric_responses"] > 0
    assert all(again[t] == 0 for t in RESPONDENT_TABLES)  # the same loads: nothing written again
    assert again["headline_indicators"] == first["headline_indicators"] > 0  # small tables: written every time
    now = {p: p.stat().st_ino for p in root.rglob(DATA_FILE)}
    assert now.keys() == files.keys()
    changed = {p.relative_to(root).parts[0] for p in now if now[p] != files[p]}
    assert not changed & set(RESPONDENT_TABLES) and "headline_indicators" in changed  # replaced by a new file, whole
    assert not [p for p in root.rglob("*") if p.name.startswith(".") and p.name != ".gitkeep"]  # no partial left


def test_a_withdrawn_waves_partitions_go_and_the_others_stay(demo_run, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(demo_run.home, home, ignore=shutil.ignore_patterns("*.lock"))
    root = home / "warehouse" / PARQUET_FOLDER
    assert (root / "respondents" / "survey_id=improvement-journey" / "wave_id=2024").is_dir()

    result = run_survey(home, "wave", "remove", "improvement-journey", "2024", "--yes")

    assert result.returncode == 0, result.stdout + result.stderr
    snapshot = home / "warehouse" / "survey.duckdb"
    for table, columns in _tables(snapshot).items():
        if "wave_id" not in columns:
            continue
        with duckdb.connect(str(snapshot), read_only=True) as con:
            published = {f"survey_id={s}/wave_id={w}" for s, w in con.execute(
                f'SELECT DISTINCT survey_id, wave_id FROM "{table}"').fetchall()}
        on_disk = {p.relative_to(root / table).as_posix() for p in (root / table).glob("*/*")}
        assert on_disk == published, table  # the wave's rows went, and with them its partitions
    for table in ("respondents", "responses", "headline_indicators", "indicator_trends"):
        assert not (root / table / "survey_id=improvement-journey" / "wave_id=2024").exists(), table
    assert (root / "respondents" / "survey_id=improvement-journey" / "wave_id=2023" / DATA_FILE).is_file()
    missing, extra, _ = _differences(snapshot, "respondents", _read(root, "respondents", _tables(snapshot)["respondents"]))
    assert (missing, extra) == (0, 0)
