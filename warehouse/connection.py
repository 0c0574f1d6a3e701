"""Opening the working database (or the analysts' snapshot) and making sure its tables exist.

The working database is two files in ``<home>/working/``:

- ``survey.duckdb``: every table analysts may see (respondents, answers, dimensions, indicators, the load
  log) and the pipeline's own bookkeeping. It is written in the storage format older DuckDB clients read
  (``STORAGE_VERSION``), because the analysts' snapshot is a copy of this file (``warehouse.publication``);
- ``private.duckdb``, attached as ``private``: the values that must never be published, namely refused cells
  (``private.quarantine``), cells cleaned away (``private.cleaning_log``) and free text
  (``private.free_text_responses``). Kept in a file of their own, they never reach the copied file, not
  even its free blocks.

The connection that publishes (``connect(..., rebuild=True)``) rebuilds ``survey.duckdb`` first when it holds
rows that were deleted (a wave loaded again or withdrawn: ``rebuild_reasons``), or was written in another
storage format (a home made by an earlier release): rebuilt, the file has no free block left holding them,
and so neither has its copy. Other connections leave it as it is: a refresh of several waves rebuilds once.

What belongs here: where the files live, how a connection is made, rebuilding the file. What does not:
any query of the survey's data.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

import sql_text
from home.settings import DEFAULT_DUCKDB_MEMORY_MB
from warehouse.stop_points import REBUILD, stop_point

SQL_DIR = Path(__file__).parent / "sql"
PRIVATE = "private"  # the alias of the private values' file on every working connection
PRIVATE_FILE = "private.duckdb"
# The storage format of the working database and so of the analysts' snapshot, its copy. Analysts open
# the snapshot with clients that lag the pipeline's DuckDB 2 (DBeaver and R bring their own, older DuckDB):
# even the newest DuckDB shell, 1.5, refuses DuckDB 2's own format ("Trying to read a database file with
# version number 69, but we can only read versions between 64 and 68"). Files in the v1.4.0 format open in
# DuckDB 1.4 (the long-term-support release) and every later one, comments and views included
# (tests/test_old_clients.py, with the 1.5 shell and Python's duckdb 1.4). Writing it costs DuckDB 2 no
# time that could be measured (3.8 s either way for 14 million answers).
STORAGE_VERSION = "v1.4.0"
# The private values' tables (private_schema.sql). Names fixed here, never taken from input.
PRIVATE_TABLES = ("quarantine", "cleaning_log", "free_text_responses")


def read_sql(name: str) -> str:
    """The text of ``warehouse/sql/<name>.sql`` (``sql_text.read_sql`` on the warehouse's folder)."""
    return sql_text.read_sql(SQL_DIR, name)


SCHEMA_DIGEST_MACRO = "schema_digest"  # a macro in each file, dropped from the analysts' copy with the others


@functools.cache
def schema_digest() -> str:
    """What today's schema is: a digest of both schema files and of this module, which holds the code that moves an
    earlier release's tables, so that a change to either runs the schema again once on every working database."""
    text = "\0".join((read_sql("schema"), read_sql("private_schema"), Path(__file__).read_text(encoding="utf-8")))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# The working file's main schema (its catalogue is named after the file), then the private file's.
DIGEST_MACROS = (f"main.{SCHEMA_DIGEST_MACRO}", f"{PRIVATE}.main.{SCHEMA_DIGEST_MACRO}")


def _stored_digests(con: duckdb.DuckDBPyConnection) -> set[str | None]:
    """The schema digests the two files record (None for a file that records none)."""
    digests = set()
    for name in DIGEST_MACROS:
        try:
            digests.add(con.execute(f"SELECT {name}()").fetchone()[0])
        except duckdb.Error:  # no such macro (DuckDB says so as a catalogue or a binder error)
            digests.add(None)
    return digests


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing of both files' tables; move the private tables of a working database made
    by an earlier release into the private file (which then asks for the working file to be rebuilt).

    Both files record the digest of the schema that made them (a macro): when both hold today's, there is
    nothing to do. Running the whole schema's SQL took about 30 ms a connection, and a small wave's refresh
    opens some twenty. The schema's backfills (a column or table added later, filled from what is there) so run
    once per schema, which holds while only this release or a later one writes the file."""
    digest = schema_digest()
    if _stored_digests(con) == {digest}:
        return
    con.execute(read_sql("schema"))
    con.execute(read_sql("private_schema"))
    moved = [t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' "
        "AND list_contains(?, table_name)", [list(PRIVATE_TABLES)]).fetchall()]
    if moved:
        _move_private_tables(con, moved)
    if con.execute("SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
                   "AND table_name = 'respondents' AND column_name = 'role'").fetchone()[0]:
        _move_role_to_fields(con)
    # Recorded last: a connection stopped before this does it all again. A macro's body takes no bound parameter,
    # so the digest (our own hex text) is placed in it as a literal.
    for name in DIGEST_MACROS:
        con.execute(f"CREATE OR REPLACE MACRO {name}() AS {sql_text.literal(digest)}")


def _move_role_to_fields(con: duckdb.DuckDBPyConnection) -> None:
    # The first release's one respondent field, a column of `respondents`, is the survey's one question of
    # the 'respondent' section in `questions`.
    with transaction(con):
        con.execute("INSERT INTO respondent_fields SELECT r.survey_id, r.wave_id, r.respondent_id, q.question_id, r.role "
                    "FROM respondents AS r JOIN questions AS q ON q.survey_id = r.survey_id AND q.section = 'respondent'")
        con.execute("ALTER TABLE respondents DROP COLUMN role")


def _move_private_tables(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    # Two files, two transactions (DuckDB writes one attached database per transaction): the private file
    # is emptied and filled first, so a move interrupted before the drops is simply done again.
    with transaction(con):
        for table in tables:
            con.execute(f"DELETE FROM {PRIVATE}.{table}")
            if table == "free_text_responses":  # rows of each wave's latest load: tagged with its run now
                con.execute(f"INSERT INTO {PRIVATE}.{table} BY NAME SELECT f.*, l.run_id "
                            f"FROM main.{table} AS f JOIN latest_load_runs() AS l USING (survey_id, wave_id)")
            else:
                con.execute(f"INSERT INTO {PRIVATE}.{table} BY NAME SELECT * FROM main.{table}")
    with transaction(con):
        for table in tables:
            con.execute(f"DROP TABLE main.{table}")
        con.execute("INSERT INTO rebuild_reasons VALUES ('private values moved to their own file', now())")


def table_columns(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[str]]:
    """The columns of each table (not view) of the attached ``database``'s main schema, in their order."""
    tables: dict[str, list[str]] = {}
    for table, column in con.execute(
            "SELECT c.table_name, c.column_name FROM duckdb_columns() AS c JOIN duckdb_tables() AS t "
            "USING (database_name, schema_name, table_name) WHERE c.database_name = ? AND c.schema_name = 'main' "
            "ORDER BY c.table_name, c.column_index", [database]).fetchall():
        tables.setdefault(table, []).append(column)
    return tables


def copy_rows(con: duckdb.DuckDBPyConnection, source: str, destination: str, table: str, columns: list[str],
              wanted: list[str], where: str = "", params: list | None = None) -> None:
    """Insert the rows of ``source``'s table into ``destination``'s, the columns both have (a column the source lacks,
    written by an earlier release, left to its default); ``where`` (with ``params``) chooses the rows. Names come
    from the files' own catalogues (``table_columns``), never from input."""
    shared = ", ".join(sql_text.identifier(c) for c in columns if c in wanted)
    name = sql_text.identifier(table)
    con.execute(f"INSERT INTO {destination}.main.{name} ({shared}) SELECT {shared} FROM {source}.main.{name}"
                + (f" WHERE {where}" if where else ""), params or [])


def private_path(working: Path) -> Path:
    """The private values' file of the working database at ``working``."""
    return Path(working).with_name(PRIVATE_FILE)


def _open(path: Path, read_only: bool, memory_limit_mb: int) -> duckdb.DuckDBPyConnection:
    config = {} if read_only else {
        "memory_limit": f"{int(memory_limit_mb)}MB",
        # A new file only: an existing one keeps its format until it is rebuilt.
        "storage_compatibility_version": STORAGE_VERSION,
    }
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    try:
        private = private_path(path)
        if not read_only or private.exists():
            con.execute(f"ATTACH ? AS {PRIVATE}" + (" (READ_ONLY)" if read_only else ""), [str(private)])
            # The private tables found by their names too, as an engineer querying the working database types
            # them (the pipeline's own SQL names them `private.` where it reads or writes them).
            database = con.execute("SELECT current_database()").fetchone()[0]
            con.execute("SET search_path = ?", [f"{sql_text.identifier(database)}.main,{PRIVATE}.main"])
        if not read_only:
            con.execute("SET enable_progress_bar = false")
            # Loads and copies need no row order; keeping it made large inserts run out of memory.
            con.execute("SET preserve_insertion_order = false")
            ensure_schema(con)
    except BaseException:
        con.close()
        raise
    return con


def rebuild_reasons(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Why the working file must be rebuilt before it is copied for analysts (none: it need not be)."""
    version = con.execute("SELECT tags['storage_version'] FROM duckdb_databases() "
                          "WHERE database_name = current_database()").fetchone()[0]
    reasons = [r for (r,) in con.execute("SELECT DISTINCT reason FROM rebuild_reasons ORDER BY 1").fetchall()]
    if version != f"{STORAGE_VERSION}+":
        reasons.append(f"written in storage format {version}")
    return reasons


def rebuild_file(path: Path, memory_limit_mb: int = DEFAULT_DUCKDB_MEMORY_MB) -> None:
    """Copy the (closed) working file's tables into a new file in ``STORAGE_VERSION`` and rename it over the
    old one: the new file holds only live rows, in no free block anything deleted. Killed half-way, the old
    file is as it was and the half-built one is removed by the next rebuild."""
    path = Path(path)
    temporary = _remove_unfinished_rebuild(path)
    if path.with_name(path.name + ".wal").exists():  # it would be replayed onto the new file
        raise RuntimeError(f"{path} has a write-ahead log: open and close it before rebuilding it")
    # Spilling beside the file, as a connection to it does (an in-memory host would spill where it was started).
    with duckdb.connect(config={"memory_limit": f"{int(memory_limit_mb)}MB", "temp_directory": f"{path}.tmp"}) as con:
        con.execute("SET preserve_insertion_order = false")
        con.execute("ATTACH ? AS old (READ_ONLY)", [str(path)])
        con.execute("ATTACH ? AS new (STORAGE_VERSION ?)", [str(temporary), STORAGE_VERSION])
        con.execute("COPY FROM DATABASE old TO new")
        con.execute("DELETE FROM new.main.rebuild_reasons")
        con.execute("CHECKPOINT new")
    if temporary.with_name(temporary.name + ".wal").exists():  # renamed, the file would lose what the log holds
        raise RuntimeError(f"{temporary} was not fully checkpointed; {path} is unchanged")
    fsync(temporary)
    stop_point(REBUILD)
    os.replace(temporary, path)
    fsync(path.parent)


def _remove_unfinished_rebuild(path: Path) -> Path:
    """Remove what a rebuild killed before its rename left beside the working file; returns the path a
    rebuild writes to. Call with the writer lock."""
    temporary = path.with_name(f".{path.name}.rebuild")
    for leftover in (temporary, temporary.with_name(temporary.name + ".wal")):
        leftover.unlink(missing_ok=True)
    return temporary


def fsync(path: Path) -> None:
    """Make a file, or a folder's entries (a rename), durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def connect(path: Path | str, read_only: bool = False, memory_limit_mb: int = DEFAULT_DUCKDB_MEMORY_MB,
            rebuild: bool = False, on_rebuild: Callable[[list[str]], None] | None = None,
            ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the working database (``private`` attached) or to an analysts' snapshot. A writing
    connection first ensures the schema and spills to ``<file>.tmp/`` beyond ``memory_limit_mb``
    (``SURVEY_DUCKDB_MEMORY_MB``, passed down from the settings); with ``rebuild`` (the connection that
    publishes; the caller holds the writer lock) it rebuilds the file first if it must (``rebuild_reasons``),
    telling ``on_rebuild`` why. A rebuild killed before its rename leaves a file that any writing connection
    removes."""
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `survey run` or `survey demo` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not read_only:
        _remove_unfinished_rebuild(path)
    con = _open(path, read_only, memory_limit_mb)
    try:
        reasons = rebuild_reasons(con) if rebuild and not read_only else []
        if reasons:
            if on_rebuild:
                on_rebuild(reasons)
            con.close()  # checkpointed: the rebuild reads every row from the file itself
            rebuild_file(path, memory_limit_mb)
            con = _open(path, read_only, memory_limit_mb)
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit if the block finishes, roll back if it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


# Tables holding one set of rows per wave of a survey, derived from that wave alone.
WAVE_RESULT_TABLES = (
    "headline_indicators", "indicator_breakdowns", "trust_coverage", "trust_question_bases", "trust_share_numerators",
    "trust_mean_sums", "trust_benchmarks", "trust_benchmark_waves",
)


def replace_wave_rows(con: duckdb.DuckDBPyConnection, table: str, survey_id: str, wave_id: str, rows) -> None:
    """Replace one wave's rows of a per-wave result table in one transaction, and record which load of
    the wave they were computed from (``wave_results``), so that a publication can tell results that lag
    behind their wave's latest load."""
    if table not in WAVE_RESULT_TABLES:
        raise ValueError(f"not a per-wave result table: {table}")  # the name is placed in the SQL text
    stop_point("indicators")  # the wave is loaded; its results are not written yet
    con.register("wave_rows", rows)
    try:
        with transaction(con):
            con.execute(f"DELETE FROM {table} WHERE survey_id = ? AND wave_id = ?", [survey_id, wave_id])
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM wave_rows")
            con.execute(read_sql("record_wave_result"), {"survey_id": survey_id, "wave_id": wave_id, "table": table})
    finally:
        con.unregister("wave_rows")
