"""Publish one survey's snapshot into a DuckLake (catalog in PostgreSQL, data as Parquet): run as a program by the
DuckLake side environment's Python, never imported by the pipeline.

Why a program of its own: the DuckLake extension exists for DuckDB 1.5.5, not for the DuckDB 2 the pipeline runs on,
and an extension loads only into the version it was built for. So ``make ducklake`` makes ``.venv-ducklake`` with
DuckDB 1.5.5 and the extensions (``deploy/ducklake-requirements.txt``), and ``warehouse.ducklake_publication`` runs
this file with that environment's Python. It imports nothing of the project (its DuckDB could not run the project's
code) and reads the survey's snapshot, which is written in a storage format DuckDB 1.4 and later read.

What it does: one schema per survey (two surveys publishing at once never touch the same table, so never
conflict); in one transaction, each table of the snapshot replaces the survey's table (a delete and an insert:
DuckLake has no ``INSERT OR REPLACE``, and no keys or ``UNIQUE`` to keep), so a reader sees the survey before or
after, never a mix; retried when another writer committed to the same tables first. The tables a load fills wave by
wave (the respondents and their answers, named by the caller) are replaced only for the waves whose latest load in
the snapshot's ``load_log`` is not the lake's: a new wave writes that wave's rows, not every wave's again. Views are
not copied: a view in the snapshot is made from its tables, and analysts on the lake query the tables.

Readers in the side environment (the tests, the benchmark) import ``connect`` and ``attach_lake`` from this file.

After the publication, with ``--keep-days``, the lake's snapshots older than that are expired and the Parquet files
only they used removed (which ends time travel before them); a failure there is reported, and the publication stands.

Usage: ``python ducklake_writer.py SNAPSHOT SURVEY_ID DATA_PATH [--by-wave TABLE,...] [--keep-days DAYS]`` with the
catalog (``postgres:dbname=... host=...``,
which may hold a password) in the environment variable ``SURVEY_DUCKLAKE_CATALOG``, never on the command line.
Prints the rows of each table, what was written (the waves written again and removed in the tables filled by wave,
the tables written whole), the attempts, the seconds and what was expired as JSON; on failure, one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import sys
import time
from pathlib import Path

import duckdb

CATALOG_ENV = "SURVEY_DUCKLAKE_CATALOG"
ATTEMPTS = 3
EXTENSIONS = ("ducklake", "postgres_scanner")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    # DuckDB 1.5's ATTACH binds no parameter: the catalog and the paths go in as quoted literals.
    return "'" + text.replace("'", "''") + "'"


def connect() -> duckdb.DuckDBPyConnection:
    """A connection with the DuckLake and PostgreSQL extensions loaded (also what a reader of the lake opens: the tests
    and the benchmark run their queries through it)."""
    # The extensions ship as Python packages of the side environment (no download): installed from there into a
    # folder of the environment, not the user's home.
    con = duckdb.connect(config={"extension_directory": str(Path(sys.prefix) / "duckdb_extensions")})
    for name in EXTENSIONS:
        package = Path(importlib.import_module(f"duckdb_extension_{name}").__file__).parent
        [binary] = package.glob(f"extensions/*/{name}.duckdb_extension")
        con.execute(f"INSTALL {_literal(binary.as_posix())}")  # a path inside the installed package
        con.execute(f"LOAD {name}")
    return con


def _columns(con: duckdb.DuckDBPyConnection, database: str, schema: str) -> dict[str, list[tuple[str, str]]]:
    """Each table's columns, as (name, type) in order: a table whose columns or types differ is made again."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
            "SELECT c.table_name, c.column_name, c.data_type FROM duckdb_columns() AS c JOIN duckdb_tables() AS t "
            "USING (database_name, schema_name, table_name) WHERE c.database_name = ? AND c.schema_name = ? "
            "ORDER BY c.table_name, c.column_index", [database, schema]).fetchall():
        tables.setdefault(table, []).append((column, data_type))
    return tables


LOAD_LOG = "load_log"


def _latest_loads(con: duckdb.DuckDBPyConnection, load_log: str | None) -> dict[str, str]:
    """Each wave's latest load (its run) in a load log (none without one). The rule of the working database's
    ``latest_load_runs()`` (warehouse/sql/schema.sql), written again here: this program imports nothing of the
    project."""
    if load_log is None:
        return {}
    return dict(con.execute(f"SELECT wave_id, arg_max(run_id, loaded_at) FROM {load_log} GROUP BY wave_id").fetchall())


def changed_waves(now: dict[str, str], before: dict[str, str]) -> tuple[list[str], list[str]]:
    """From each wave's latest load run in the snapshot (``now``) and in the lake (``before``): the waves to write
    again (new, or loaded since) and the waves to remove (withdrawn)."""
    return sorted(w for w, run in now.items() if before.get(w) != run), sorted(w for w in before if w not in now)


def _in_waves(waves: list[str]) -> tuple[str, dict[str, str]]:
    """SQL that ``wave_id`` is one of ``waves``, each a bound parameter: a list of values DuckLake prunes its files by,
    which it does not for ``list_contains``."""
    bound = {f"wave_{n}": wave for n, wave in enumerate(waves)}
    return f"wave_id IN ({', '.join(f'${name}' for name in bound)})", bound


def _wave_rows(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    return dict(con.execute(f"SELECT wave_id, count(*) FROM {table} GROUP BY wave_id").fetchall())


def _replace(con: duckdb.DuckDBPyConnection, survey_id: str, by_wave: frozenset[str]) -> tuple[dict[str, int], dict]:
    """Replace the survey's tables; returns the rows of each, and what was written: the waves written again and
    removed in the tables filled by wave, and the tables written whole."""
    schema = f"lake.{_quoted(survey_id)}"
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    published = _columns(con, "snapshot", "main")
    rows, whole, by_waves = {}, [], False
    con.execute("BEGIN TRANSACTION")
    try:
        present = _columns(con, "lake", survey_id)
        now = _latest_loads(con, f"snapshot.main.{LOAD_LOG}" if LOAD_LOG in published else None)
        before = _latest_loads(con, f"{schema}.{LOAD_LOG}" if LOAD_LOG in present else None)
        replaced, removed = changed_waves(now, before)
        for table, columns in published.items():
            target = f"{schema}.{_quoted(table)}"
            source = f"snapshot.main.{_quoted(table)}"
            same = present.get(table) == columns
            if same and table in by_wave and LOAD_LOG in present and ("wave_id", "VARCHAR") in columns:
                if replaced or removed:
                    condition, waves = _in_waves(replaced + removed)
                    con.execute(f"DELETE FROM {target} WHERE {condition}", waves)
                if replaced:
                    condition, waves = _in_waves(replaced)
                    con.execute(f"INSERT INTO {target} SELECT * FROM {source} WHERE {condition}", waves)
                # A net, not a proof: a table whose rows of a wave went astray (a lake edited by hand, say) is
                # written whole, as a table not filled by wave is.
                counts = _wave_rows(con, target)
                if counts == _wave_rows(con, source):
                    rows[table], by_waves = sum(counts.values()), True
                    continue
            if same:
                con.execute(f"DELETE FROM {target}")
                con.execute(f"INSERT INTO {target} SELECT * FROM {source}")
            else:  # new, or its columns changed with a release: made again from the snapshot
                if table in present:
                    con.execute(f"DROP TABLE {target}")
                con.execute(f"CREATE TABLE {target} AS SELECT * FROM {source}")
            rows[table] = con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
            whole.append(table)
        for table in set(present) - set(published):
            con.execute(f"DROP TABLE {schema}.{_quoted(table)}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    written = {"waves_written_again": replaced if by_waves else [], "waves_removed": removed if by_waves else [],
               "tables_written_whole": sorted(whole)}
    return rows, written


def attach_lake(con: duckdb.DuckDBPyConnection, catalog: str, data_path: Path, read_only: bool = False) -> None:
    """The lake attached as ``lake``."""
    options = f"DATA_PATH {_literal(str(data_path))}" + (", READ_ONLY" if read_only else "")
    for attempt in range(1, ATTEMPTS + 1):
        try:
            con.execute(f"ATTACH {_literal('ducklake:' + catalog)} AS lake ({options})")
            return
        except duckdb.Error as exc:
            # Two writers attaching a new catalog both create its tables, and one fails; the catalog is then made.
            if attempt == ATTEMPTS or "initialize DuckLake" not in str(exc):
                raise
            time.sleep(0.5 * attempt)


def _expire(con: duckdb.DuckDBPyConnection, keep_days: float) -> dict:
    """Expire the lake's snapshots older than ``keep_days`` and remove the files no snapshot left uses; what was done,
    or why not. Every survey's snapshots are the catalog's, so this reaches the other surveys' history too."""
    cut = dt.datetime.now(dt.UTC) - dt.timedelta(days=keep_days)
    # fetchall, never fetchone: a result left unfinished leaves the expiry undone (seen here with DuckLake for 1.5.5).
    try:
        [(expired,)] = con.execute("SELECT count(*) FROM ducklake_expire_snapshots('lake', older_than => $cut)",
                                   {"cut": cut}).fetchall()
        # All the files the expiry left unused, at once: a reader holding a snapshot older than keep_days loses them.
        [(removed,)] = con.execute(
            "SELECT count(*) FROM ducklake_cleanup_old_files('lake', cleanup_all => true)").fetchall()
    except duckdb.Error as exc:  # the survey is published; the next publication expires them
        return {"expiry_failed": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
    return {"expired_snapshots": expired, "files_removed": removed}


def publish(snapshot: Path, survey_id: str, catalog: str, data_path: Path, by_wave: frozenset[str] = frozenset(),
            keep_days: float | None = None) -> dict:
    """Replace the survey's schema in the lake with the snapshot's tables, in one transaction (the tables ``by_wave``
    only for the waves whose latest load changed); then, with ``keep_days``, expire what is older."""
    started = time.perf_counter()
    data_path.mkdir(parents=True, exist_ok=True)
    with connect() as con:
        attach_lake(con, catalog, data_path)
        con.execute(f"ATTACH {_literal(str(snapshot))} AS snapshot (READ_ONLY)")
        for attempt in range(1, ATTEMPTS + 1):
            try:
                rows, written = _replace(con, survey_id, by_wave)
                break
            except duckdb.TransactionException:
                if attempt == ATTEMPTS:
                    raise
                time.sleep(0.5 * attempt)  # another writer committed to these tables first
        expiry = _expire(con, keep_days) if keep_days is not None else {}
    return {"survey_id": survey_id, "rows": rows, **written, "attempts": attempt, **expiry,
            "seconds": round(time.perf_counter() - started, 3), "duckdb": duckdb.__version__}


def main(argv: list[str]) -> int:
    # argparse, not the project's typer: the side environment has DuckDB and its extensions only.
    parser = argparse.ArgumentParser(prog="ducklake_writer.py", description=f"with {CATALOG_ENV} set")
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("survey_id")
    parser.add_argument("data_path", type=Path)
    parser.add_argument("--by-wave", default="", help="the tables filled wave by wave, separated by commas")
    parser.add_argument("--keep-days", type=float, help="expire the lake's snapshots older than this")
    arguments = parser.parse_args(argv)
    if not os.environ.get(CATALOG_ENV):
        parser.error(f"{CATALOG_ENV} is not set")
    by_wave = frozenset(t for t in arguments.by_wave.split(",") if t)
    try:
        print(json.dumps(publish(arguments.snapshot, arguments.survey_id, os.environ[CATALOG_ENV], arguments.data_path,
                                 by_wave, arguments.keep_days)))
    except (duckdb.Error, OSError) as exc:
        line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        # A connection error may quote the catalog, password included: named by its variable instead.
        print(line.replace(os.environ[CATALOG_ENV], f"${CATALOG_ENV}"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
