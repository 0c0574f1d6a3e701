"""Opening a warehouse file (the working database or the analysts' snapshot) and making sure its tables exist.

What belongs here: where the file lives and how a connection is made. What does not: any query.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

import sql_text
from home.settings import DEFAULT_DUCKDB_MEMORY_MB
from warehouse.stop_points import stop_point

SQL_DIR = Path(__file__).parent / "sql"


def read_sql(name: str) -> str:
    """The text of ``warehouse/sql/<name>.sql`` (``sql_text.read_sql`` on the warehouse's folder)."""
    return sql_text.read_sql(SQL_DIR, name)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(read_sql("schema"))


@contextmanager
def connect(path: Path | str, read_only: bool = False,
            memory_limit_mb: int = DEFAULT_DUCKDB_MEMORY_MB) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse file; a writing connection first ensures the schema, and spills to
    ``<file>.tmp/`` beyond ``memory_limit_mb`` (``SURVEY_DUCKDB_MEMORY_MB``, passed down from the settings)."""
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `survey run` or `survey demo` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {} if read_only else {"memory_limit": f"{int(memory_limit_mb)}MB"}
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    try:
        if not read_only:
            con.execute("SET enable_progress_bar = false")
            # Loads and copies need no row order; keeping it made large inserts run out of memory.
            con.execute("SET preserve_insertion_order = false")
            ensure_schema(con)
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
