"""Publishing the analysts' snapshot of the warehouse, atomically.

The snapshot is a copy of the working database's file (``warehouse.connection``: written in the storage
format of the oldest client analysts use, holding no private value, and rebuilt when rows were deleted from
it, as the publishing connection opens): the file is checkpointed and copied beside the target, and in
the copy the pipeline's own tables and macros are dropped, the quarantine and the cleaning
log are added as counts (from the private file, never copied), with the publication record, the views
(``warehouse.snapshot_views``) and a comment on every table, view and column. It is checkpointed, closed
and synced, then renamed over the target in one step, so a reader sees the old snapshot or the new one and
never a mix, and a connection already open on the old file keeps working.

Copying the file costs the same whatever it holds (a sequential read and write): the rows of a million
respondents are not inserted again, as building the snapshot table by table did. What the dropped tables
leave in the copy's free blocks is the pipeline's bookkeeping and the counts by trust that indicators add
up, which analysts can count from ``respondents`` and ``responses`` themselves.

What does not belong here: who may write the working database (``warehouse.writer_lock``), or when a
refresh publishes (the ``analyst_warehouse`` asset).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from schemas.codebook import Codebook
from sql_text import identifier
from warehouse.connection import STORAGE_VERSION, WAVE_RESULT_TABLES, fsync, read_sql, rebuild_reasons, transaction
from warehouse.dictionary import DERIVED_TABLES, comment_statements, published_tables
from warehouse.load import remove_private_rows_of_other_loads
from warehouse.snapshot_views import view_statements
from warehouse.stop_points import stop_point

SNAPSHOT = "snapshot"  # the alias of the file being built, attached to the working connection


@dataclass(frozen=True)
class Snapshot:
    """What a publication wrote: the rows of each published table."""

    rows: dict[str, int]


class PublishFailed(RuntimeError):
    """The snapshot could not be written; the one analysts have is unchanged."""


def temporary_path(target: Path, run_id: str) -> Path:
    """Where a publication builds ``target`` before renaming it over it (``remove_unfinished`` finds it by this name)."""
    return target.with_name(f".{target.name}.{run_id}.tmp")


def drop_views(con: duckdb.DuckDBPyConnection, database: str) -> None:
    """Drop every view of the attached ``database`` (they are made again from today's codebooks)."""
    for (view,) in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = ? AND NOT internal",
                               [database]).fetchall():
        con.execute(f"DROP VIEW {database}.main.{identifier(view)}")


def remove_unfinished(target: Path) -> list[Path]:
    """Remove the half-built files (and DuckDB's spill folders) a killed publish left beside ``target``; call with
    the writer lock."""
    leftovers = sorted(target.parent.glob(f".{target.name}.*.tmp")) + sorted(
        target.parent.glob(f".{target.name}.*.tmp.wal")
    )
    for path in leftovers:
        path.unlink(missing_ok=True)
    for spill in target.parent.glob(f".{target.name}.*.tmp.spill"):
        shutil.rmtree(spill, ignore_errors=True)
    return leftovers


def _strip_to_published(con: duckdb.DuckDBPyConnection) -> None:
    """Drop from the copy every view, macro and table that is not published (the pipeline's bookkeeping)."""
    published = {t.name for t in published_tables()}
    drop_views(con, SNAPSHOT)
    for name, kind in con.execute("SELECT DISTINCT function_name, function_type FROM duckdb_functions() "
                                  "WHERE database_name = ? AND NOT internal", [SNAPSHOT]).fetchall():
        con.execute(f"DROP {'MACRO TABLE' if kind == 'table_macro' else 'MACRO'} {SNAPSHOT}.main.{identifier(name)}")
    for (table,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [SNAPSHOT]).fetchall():
        if table not in published:
            con.execute(f"DROP TABLE {SNAPSHOT}.main.{identifier(table)}")


def _fill_snapshot(con: duckdb.DuckDBPyConnection, working: str, publication: dict, codebooks: list[Codebook],
                   views: list[str]) -> dict:
    tables = [t.name for t in published_tables()]
    present = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ?",
                                         [SNAPSHOT]).fetchall()}
    missing = [t for t in tables if t not in present and t not in DERIVED_TABLES]
    if missing:
        raise PublishFailed(f"the working database has no table {', '.join(missing)}")
    _strip_to_published(con)
    con.execute(f"USE {SNAPSHOT}")
    try:
        con.execute(read_sql("snapshot_schema"))
        # With the snapshot as default database, so that the views name its own tables.
        for statement in views:
            con.execute(statement)
    finally:
        con.execute(f'USE "{working}"')
    rows = {}
    with transaction(con):
        con.execute(f"INSERT INTO {SNAPSHOT}.main.quarantine_counts BY NAME {read_sql('quarantine_count_rows')}")
        con.execute(f"INSERT INTO {SNAPSHOT}.main.cleaning_counts BY NAME {read_sql('cleaning_count_rows')}")
        con.execute(f"INSERT INTO {SNAPSHOT}.main.publications BY NAME {read_sql('publication_rows')}", publication)
        for statement in comment_statements(SNAPSHOT, codebooks):
            con.execute(statement)
        for table in tables:
            rows[table] = con.execute(f'SELECT count(*) FROM {SNAPSHOT}.main."{table}"').fetchall()[0][0]
    con.execute(f"CHECKPOINT {SNAPSHOT}")
    return rows


def publish_snapshot(
    con: duckdb.DuckDBPyConnection,
    target: Path,
    run_id: str,
    code_version: str,
    codebooks: Iterable[Codebook],
    published_at: dt.datetime | None = None,
    then: Callable[[], None] | None = None,
) -> Snapshot:
    """Copy the working database ``con`` for analysts and rename the copy over ``target``.

    The caller holds the writer lock. A working file that needs rebuilding (``rebuild_reasons``: a
    publishing connection rebuilds it as it opens, so this is rare) is copied table by table rather than as a
    file. Returns what it wrote. On any failure (disk full, no
    permission) the half-built file is removed, ``target`` is left as it was and ``PublishFailed`` says why.
    ``then`` runs once the snapshot is in place and before the publication is recorded (combining the analysts'
    warehouse from the surveys' snapshots): if it raises, the publication is not recorded and the next run
    publishes again.
    """
    target = Path(target)
    publication = {
        "run_id": run_id,
        "published_at": published_at or dt.datetime.now(dt.UTC),
        "code_version": code_version,
    }
    codebooks = list(codebooks)
    try:
        views = view_statements(codebooks)
    except ValueError as exc:  # a codebook the wide view cannot be made from
        raise PublishFailed(f"not publishing the analysts' warehouse {target}: {exc}. "
                            f"The previous warehouse is unchanged.") from None
    temporary = temporary_path(target, run_id)
    working, working_file = con.execute(
        "SELECT database_name, path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    stale = con.execute(read_sql("stale_wave_results"), {"result_tables": list(WAVE_RESULT_TABLES)}).fetchall()
    if stale:
        waves = sorted({f"{survey_id}/{wave_id}" for survey_id, wave_id, _ in stale})
        raise PublishFailed(
            f"not publishing the analysts' warehouse {target}: the results of {', '.join(waves)} were not "
            f"computed from its latest load (a run failed or was stopped after loading it). The previous "
            f"warehouse is unchanged; `survey run` loads the wave again and publishes."
        )
    with replaced_whole(target, temporary, "publish",
                        "the working database keeps the new data for the next run"):
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_unfinished(target)
        remove_private_rows_of_other_loads(con)  # counted for analysts: the latest loads' only
        if rebuild_reasons(con):
            # Not rebuilt since rows were deleted from it (a connection opened before): its free blocks may
            # hold them, so the file is copied table by table instead, as a rebuild would.
            con.execute(f"ATTACH ? AS {SNAPSHOT} (STORAGE_VERSION ?)", [str(temporary), STORAGE_VERSION])
            con.execute(f'COPY FROM DATABASE "{working}" TO {SNAPSHOT}')
        else:
            con.execute("CHECKPOINT")  # the whole working database in its file, none of it in the write-ahead log
            shutil.copyfile(working_file, temporary)
            con.execute(f"ATTACH ? AS {SNAPSHOT}", [str(temporary)])
        try:
            rows = _fill_snapshot(con, working, publication, codebooks, views)
        except BaseException:
            _detach_quietly(con, working)  # the first error is the one worth reporting
            raise
        con.execute(f"DETACH {SNAPSHOT}")
    if then is not None:
        then()
    # Recorded in the working database only once analysts can see it, so an interrupted publish is
    # redone by the next run.
    with transaction(con):
        con.execute(f"INSERT INTO publications BY NAME {read_sql('publication_rows')}", publication)
    return Snapshot(rows)


@contextmanager
def replaced_whole(target: Path, temporary: Path, stage: str, and_then: str) -> Iterator[None]:
    """Run the block that writes ``temporary`` (checkpointed and closed by its end), then rename it over ``target`` in
    one step. On failure (disk full, no permission, a file not checkpointed) ``temporary`` is removed, ``target`` is
    left as it was and ``PublishFailed`` says why, that the previous warehouse is unchanged, and ``and_then``."""
    try:
        yield
        if temporary.with_name(temporary.name + ".wal").exists():
            raise PublishFailed(f"{temporary} was not fully checkpointed")
        fsync(temporary)
        stop_point(stage)
        os.replace(temporary, target)
    except (duckdb.Error, OSError, PublishFailed) as exc:
        _discard(temporary)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PublishFailed(f"could not publish the analysts' warehouse {target}: {reason}. "
                            f"The previous warehouse is unchanged; {and_then}.") from exc
    except BaseException:
        _discard(temporary)
        raise
    try:
        fsync(target.parent)  # makes the rename itself durable; the new file is in place either way
    except OSError:
        pass


def _detach_quietly(con: duckdb.DuckDBPyConnection, working: str) -> None:
    for statement in (f'USE "{working}"', f"DETACH {SNAPSHOT}"):
        try:
            con.execute(statement)
        except duckdb.Error:
            pass


def _discard(temporary: Path) -> None:
    for path in (temporary, temporary.with_name(temporary.name + ".wal")):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass  # e.g. the folder is not writable: nothing was created there either


def published_wave_sources(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict]:
    """For each wave in its survey's latest publication: its codebook version and source files (name → sha256)."""
    rows = con.execute(read_sql("published_wave_sources")).fetchall()
    waves: dict[tuple[str, str], dict] = {}
    for survey_id, wave_id, codebook_version, source_file, sha256 in rows:
        wave = waves.setdefault((survey_id, wave_id), {"codebook_version": codebook_version, "files": {}})
        wave["files"][source_file] = sha256
    return waves


def published_inputs(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str | None]:
    """The inputs fingerprint of each wave in its survey's latest publication that the file still holds, by (survey
    id, wave id), from the working database, a survey's snapshot or the analysts' warehouse."""
    try:
        rows = con.execute(read_sql("published_inputs")).fetchall()
    except duckdb.BinderException:
        return {}  # published before fingerprints were recorded: every wave is loaded again, once
    return {(survey_id, wave_id): fingerprint for survey_id, wave_id, fingerprint in rows}


def read_published_inputs(snapshot: Path) -> dict[tuple[str, str], str | None]:
    """``published_inputs`` of a published file, opened read-only beside analysts (empty when there is none yet);
    raises ``duckdb.Error`` when it cannot be opened (a client holding it to write)."""
    if not snapshot.exists():
        return {}
    with duckdb.connect(str(snapshot), read_only=True) as con:
        return published_inputs(con)


def loaded_waves(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Every wave the working database holds a load of, by (survey id, wave id)."""
    return [tuple(row) for row in con.execute(
        "SELECT DISTINCT survey_id, wave_id FROM load_log ORDER BY ALL").fetchall()]
