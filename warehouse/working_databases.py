"""Each survey's own working database: opened under the survey's writer lock, so that two surveys refresh side
by side and one survey's runs take turns.

A survey's working database is ``<home>/working/<survey_id>/survey.duckdb`` with its private values beside it
(``warehouse.connection``). Earlier releases kept one working database for every survey
(``<home>/working/survey.duckdb``); the first use of a home made by one splits it, under that file's own lock:
each survey's rows (and only its rows) are inserted into files of the survey's own, made with today's schema under a
hidden name and renamed into place, and the shared file is removed only once every survey has its own. Killed half-way, the next use splits again
from the shared file, which is still whole.

What does not belong here: how a connection is made or the file rebuilt (``warehouse.connection``), the lock
itself (``warehouse.writer_lock``), or anything published (``warehouse.publication``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from home.settings import SurveyHome
from warehouse.connection import (
    PRIVATE,
    PRIVATE_FILE,
    STORAGE_VERSION,
    connect,
    copy_rows,
    ensure_schema,
    fsync,
    private_path,
    table_columns,
)
from warehouse.writer_lock import writer_lock

# The pipeline's notes on the shared file itself (why it must be rebuilt): the new files are built clean.
NOT_COPIED = {"rebuild_reasons"}


@contextmanager
def working_database(home: SurveyHome, survey_id: str, *, read_only: bool = False, rebuild: bool = False,
                     on_rebuild: Callable[[list[str]], None] | None = None,
                     on_wait: Callable[[str], None] | None = None,
                     timeout_s: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the survey's working database, holding the survey's writer lock (waiting, telling
    ``on_wait`` who holds it, for at most ``timeout_s``); ``rebuild`` and ``on_rebuild`` as ``connect``'s."""
    with survey_writer_lock(home, survey_id, timeout_s=timeout_s, on_wait=on_wait), \
            connect(home.working_path(survey_id), read_only=read_only, rebuild=rebuild, on_rebuild=on_rebuild,
                    memory_limit_mb=home.settings.duckdb_memory_mb) as con:
        yield con


@contextmanager
def survey_writer_lock(home: SurveyHome, survey_id: str, *, timeout_s: float | None = None,
                       on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the survey's writer lock for the block, once an earlier release's shared working database is split:
    until it is, the survey's rows are in a file that lock does not guard."""
    split_shared_working_database(home)
    with writer_lock(home.writer_lock_path(survey_id), timeout_s=timeout_s, on_wait=on_wait):
        yield


def split_shared_working_database(home: SurveyHome) -> list[str]:
    """Give each survey of an earlier release's shared working database a working database of its own, then
    remove the shared one; returns the surveys split (none when there is no shared file)."""
    if not home.shared_working_path.exists():
        return []
    with writer_lock(home.shared_writer_lock_path):
        shared = home.shared_working_path
        if not shared.exists():  # split by another process while this one waited
            return []
        # Opened once to write, so that a write-ahead log left by a killed writer is replayed into it.
        with connect(shared, memory_limit_mb=home.settings.duckdb_memory_mb) as con:
            surveys = [s for (s,) in con.execute(
                "SELECT DISTINCT survey_id FROM (SELECT survey_id FROM load_log UNION ALL SELECT survey_id FROM waves "
                "UNION ALL SELECT survey_id FROM questions) ORDER BY 1").fetchall()]
            con.execute("CHECKPOINT")
        for survey_id in surveys:
            with writer_lock(home.writer_lock_path(survey_id)):
                _copy_survey(shared, home.working_path(survey_id), survey_id, home.settings.duckdb_memory_mb)
        # The private file first: were the command killed in between, the shared file would be split again, and
        # each survey's private file, made already, kept.
        for leftover in (private_path(shared), shared):
            for path in (leftover, leftover.with_name(leftover.name + ".wal")):
                path.unlink(missing_ok=True)
        fsync(home.working_dir)
    return surveys


def _copy_survey(shared: Path, target: Path, survey_id: str, memory_limit_mb: int) -> None:
    """The survey's rows of the shared file and its private file, inserted into new files made with today's schema and
    renamed over ``target`` and its private file: no other survey's row is ever written to them, so none lingers in
    their free blocks."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary, temporary_private = target.with_name(f".{target.name}.split"), target.with_name(f".{PRIVATE_FILE}.split")
    for path in (temporary, temporary_private):
        for leftover in (path, path.with_name(path.name + ".wal")):
            leftover.unlink(missing_ok=True)
    with duckdb.connect(config={"memory_limit": f"{int(memory_limit_mb)}MB"}) as con:
        con.execute("SET preserve_insertion_order = false")
        con.execute("ATTACH ? AS old (READ_ONLY)", [str(shared)])
        sources = [("old", "new")]
        if private_path(shared).exists():
            con.execute("ATTACH ? AS old_private (READ_ONLY)", [str(private_path(shared))])
            sources.append(("old_private", PRIVATE))
        con.execute("ATTACH ? AS new (STORAGE_VERSION ?)", [str(temporary), STORAGE_VERSION])
        con.execute(f"ATTACH ? AS {PRIVATE} (STORAGE_VERSION ?)", [str(temporary_private), STORAGE_VERSION])
        con.execute("USE new")
        ensure_schema(con)  # today's tables, keys and macros, in both files
        for source, destination in sources:
            made = table_columns(con, destination)
            for table, columns in table_columns(con, source).items():
                if table in made and table not in NOT_COPIED:  # the trust list, with no survey, copied whole
                    copy_rows(con, source, destination, table, columns, made[table],
                              *(("survey_id = ?", [survey_id]) if "survey_id" in columns else ()))
        con.execute("USE memory")
        for database in ("new", PRIVATE):
            con.execute(f"CHECKPOINT {database}")
            con.execute(f"DETACH {database}")
    for path, final in ((temporary_private, private_path(target)), (temporary, target)):  # a working file never lacks its private file
        fsync(path)
        os.replace(path, final)
    fsync(target.parent)

