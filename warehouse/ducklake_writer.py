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
after, never a mix; retried when another writer committed to the same tables first. Views are not copied: a view
in the snapshot is made from its tables, and analysts on the lake query the tables.

Readers in the side environment (the tests, the benchmark) import ``connect`` and ``attach_lake`` from this file.

Usage: ``python ducklake_writer.py SNAPSHOT SURVEY_ID DATA_PATH`` with the catalog (``postgres:dbname=... host=...``,
which may hold a password) in the environment variable ``SURVEY_DUCKLAKE_CATALOG``, never on the command line.
Prints the rows of each table, the attempts and the seconds as JSON; on failure, one line on stderr and exit 1.
"""

from __future__ import annotations

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


def _columns(con: duckdb.DuckDBPyConnection, database: str, schema: str) -> dict[str, list[str]]:
    tables: dict[str, list[str]] = {}
    for table, column in con.execute(
            "SELECT c.table_name, c.column_name FROM duckdb_columns() AS c JOIN duckdb_tables() AS t "
            "USING (database_name, schema_name, table_name) WHERE c.database_name = ? AND c.schema_name = ? "
            "ORDER BY c.table_name, c.column_index", [database, schema]).fetchall():
        tables.setdefault(table, []).append(column)
    return tables


def _replace(con: duckdb.DuckDBPyConnection, survey_id: str) -> dict[str, int]:
    schema = f"lake.{_quoted(survey_id)}"
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    published = _columns(con, "snapshot", "main")
    rows = {}
    con.execute("BEGIN TRANSACTION")
    try:
        present = _columns(con, "lake", survey_id)
        for table, columns in published.items():
            target = f"{schema}.{_quoted(table)}"
            source = f"snapshot.main.{_quoted(table)}"
            if present.get(table) == columns:
                con.execute(f"DELETE FROM {target}")
                con.execute(f"INSERT INTO {target} SELECT * FROM {source}")
            else:  # new, or its columns changed with a release: made again from the snapshot
                if table in present:
                    con.execute(f"DROP TABLE {target}")
                con.execute(f"CREATE TABLE {target} AS SELECT * FROM {source}")
            rows[table] = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
        for table in set(present) - set(published):
            con.execute(f"DROP TABLE {schema}.{_quoted(table)}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return rows


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


def publish(snapshot: Path, survey_id: str, catalog: str, data_path: Path) -> dict:
    """Replace the survey's schema in the lake with the snapshot's tables, in one transaction."""
    started = time.perf_counter()
    data_path.mkdir(parents=True, exist_ok=True)
    with connect() as con:
        attach_lake(con, catalog, data_path)
        con.execute(f"ATTACH {_literal(str(snapshot))} AS snapshot (READ_ONLY)")
        for attempt in range(1, ATTEMPTS + 1):
            try:
                rows = _replace(con, survey_id)
                break
            except duckdb.TransactionException:
                if attempt == ATTEMPTS:
                    raise
                time.sleep(0.5 * attempt)  # another writer committed to these tables first
    return {"survey_id": survey_id, "rows": rows, "attempts": attempt,
            "seconds": round(time.perf_counter() - started, 3), "duckdb": duckdb.__version__}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or not os.environ.get(CATALOG_ENV):
        print(f"usage: ducklake_writer.py SNAPSHOT SURVEY_ID DATA_PATH, with {CATALOG_ENV} set", file=sys.stderr)
        return 2
    try:
        print(json.dumps(publish(Path(argv[0]), argv[1], os.environ[CATALOG_ENV], Path(argv[2]))))
    except (duckdb.Error, OSError) as exc:
        line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        # A connection error may quote the catalog, password included: named by its variable instead.
        print(line.replace(os.environ[CATALOG_ENV], f"${CATALOG_ENV}"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
