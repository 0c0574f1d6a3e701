"""Each survey's own working database: opened under the survey's writer lock, so that two surveys refresh side
by side and one survey's runs take turns.

A survey's working database is ``<home>/working/<survey_id>/survey.duckdb`` with its private values beside it
(``warehouse.connection``). Earlier releases kept one working database for every survey
(``<home>/working/survey.duckdb``); the first use of a home made by one splits it, under that file's own lock:
each survey's rows are copied into a file of the survey's own, made under a hidden name and renamed into place,
and the shared file is removed only once every survey has its own. Killed half-way, the next use splits again
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
from sql_text import identifier
from warehouse.connection import PRIVATE_FILE, STORAGE_VERSION, connect, fsync, private_path
from warehouse.writer_lock import writer_lock

SPLIT_REASON = "split from the working database earlier releases shared between surveys"


@contextmanager
def working_database(home: SurveyHome, survey_id: str, *, read_only: bool = False, rebuild: bool = False,
                     on_rebuild: Callable[[list[str]], None] | None = None,
                     on_wait: Callable[[str], None] | None = None,
                     timeout_s: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the survey's working database, holding the survey's writer lock (waiting, telling
    ``on_wait`` who holds it, for at most ``timeout_s``); ``rebuild`` and ``on_rebuild`` as ``connect``'s."""
    split_shared_working_database(home)
    with writer_lock(home.writer_lock_path(survey_id), timeout_s=timeout_s, on_wait=on_wait), \
            connect(home.working_path(survey_id), read_only=read_only, rebuild=rebuild, on_rebuild=on_rebuild,
                    memory_limit_mb=home.settings.duckdb_memory_mb) as con:
        yield con


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
        for leftover in (shared, private_path(shared)):
            for path in (leftover, leftover.with_name(leftover.name + ".wal")):
                path.unlink(missing_ok=True)
        fsync(home.working_dir)
    return surveys


def _copy_survey(shared: Path, target: Path, survey_id: str, memory_limit_mb: int) -> None:
    """The survey's rows of the shared file and its private file, into files of its own renamed over ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    pairs = [(shared, target.with_name(f".{target.name}.split"), target),
             (private_path(shared), target.with_name(f".{PRIVATE_FILE}.split"), private_path(target))]
    with duckdb.connect(config={"memory_limit": f"{int(memory_limit_mb)}MB"}) as con:
        for number, (source, temporary, _) in enumerate(pairs):
            for path in (temporary, temporary.with_name(temporary.name + ".wal")):
                path.unlink(missing_ok=True)
            if not source.exists():
                continue
            con.execute(f"ATTACH ? AS old{number} (READ_ONLY)", [str(source)])
            con.execute(f"ATTACH ? AS new{number} (STORAGE_VERSION ?)", [str(temporary), STORAGE_VERSION])
            con.execute(f"COPY FROM DATABASE old{number} TO new{number}")
            # Table names come from the file's own catalogue, never from input.
            for (table,) in con.execute("SELECT DISTINCT table_name FROM duckdb_columns() WHERE database_name = ? "
                                        "AND column_name = 'survey_id'", [f"new{number}"]).fetchall():
                con.execute(f"DELETE FROM new{number}.main.{identifier(table)} WHERE survey_id IS DISTINCT FROM ?",
                            [survey_id])
            if number == 0:  # the other surveys' rows are in its free blocks until it is rebuilt
                con.execute("INSERT INTO new0.main.rebuild_reasons VALUES (?, now())", [SPLIT_REASON])
            con.execute(f"CHECKPOINT new{number}")
            con.execute(f"DETACH new{number}")
            con.execute(f"DETACH old{number}")
    for _, temporary, final in reversed(pairs):  # the private file first: a working file never lacks it
        if temporary.exists():
            fsync(temporary)
            os.replace(temporary, final)
    fsync(target.parent)
