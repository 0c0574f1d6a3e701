"""Publishing the analysts' snapshot of the warehouse, atomically.

The snapshot is a new DuckDB file built beside the target from the working database: the published
tables of ``dictionary.yaml`` copied with their keys, the quarantine as counts, the publication record
and a comment on every table and column. It is checkpointed, closed and synced, then renamed over the
target in one step, so a reader sees the old snapshot or the new one and never a mix, and a connection
already open on the old file keeps working. Private tables are never written into it, so no free text
or refused value can linger in its free blocks.

When a refresh only adds waves, the new file starts as a copy of the previous snapshot: its rows of
respondents and answers are kept and only the new waves' rows are appended; every other table (small:
dimensions, indicators, trends, the load log) is written again. Any other change (a wave loaded again,
a column added, a file written in another storage format) builds the file afresh, so rows a reload
replaced do not stay behind, even in free blocks.

The file is written in DuckDB's storage format of an older release (``SNAPSHOT_STORAGE_VERSION``) so
that analysts' clients, which lag the pipeline's own DuckDB, can open it; its views
(``warehouse.snapshot_views``) are created last, over the file's own tables.

What does not belong here: who may write the working database (``warehouse.writer_lock``), or when a
refresh publishes (the ``analyst_warehouse`` asset).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from schemas.codebook import Codebook
from sql_text import identifier
from warehouse.connection import WAVE_RESULT_TABLES, read_sql, transaction
from warehouse.dictionary import DERIVED_TABLES, comment_statements, published_tables
from warehouse.snapshot_views import view_statements
from warehouse.stop_points import stop_point

SNAPSHOT = "snapshot"  # the alias of the file being built, attached to the working connection
PREVIOUS = "previous"  # the alias of the snapshot analysts have, while deciding what to keep of it
# The tables with a row per respondent (or per answer): the only ones worth keeping from the previous
# snapshot; the rest are small and written again every time.
RESPONDENT_TABLES = ("respondents", "responses")
# The storage format the snapshot is written in. Analysts open it with clients that lag the pipeline's
# DuckDB 2 (DBeaver and R bring their own, older DuckDB): even the newest DuckDB shell, 1.5, refuses
# DuckDB 2's own format ("Trying to read a database file with version number 69, but we can only read
# versions between 64 and 68"). Files in the v1.4.0 format open in DuckDB 1.4 (the long-term-support
# release) and every later one, comments and views included (tests/test_old_clients.py, with the 1.5
# shell and Python's duckdb 1.4).
# A snapshot kept from the previous one must have been written in this format too: an existing file's
# format cannot be lowered, and a copy would carry the old one on.
SNAPSHOT_STORAGE_VERSION = "v1.4.0"


@dataclass(frozen=True)
class Snapshot:
    """What a publication wrote: the rows of each published table, and the waves it kept as they were
    in the previous snapshot (none when it was built afresh)."""

    rows: dict[str, int]
    kept_waves: list[tuple[str, str]]


class PublishFailed(RuntimeError):
    """The snapshot could not be written; the one analysts have is unchanged."""


def _temporary_path(target: Path, run_id: str) -> Path:
    return target.with_name(f".{target.name}.{run_id}.tmp")


def remove_unfinished(target: Path) -> list[Path]:
    """Remove the half-built files a killed publish left beside ``target``; call with the writer lock."""
    leftovers = sorted(target.parent.glob(f".{target.name}.*.tmp")) + sorted(
        target.parent.glob(f".{target.name}.*.tmp.wal")
    )
    for path in leftovers:
        path.unlink(missing_ok=True)
    return leftovers


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def kept_waves(con: duckdb.DuckDBPyConnection, target: Path, working: str) -> list[tuple[str, str]]:
    """The waves a new snapshot can take as they are from the previous one at ``target``: all of its waves
    when the working database holds the same load of each and the same columns of the respondent tables;
    otherwise (or with no readable previous snapshot) none, and the snapshot is built afresh.

    The file must also be exactly as this pipeline wrote it (its size and modification time as recorded
    in ``snapshot_files``): a client that opened it to write may have changed rows, which must not be
    carried into the next snapshot. And it must have been written in ``SNAPSHOT_STORAGE_VERSION``: a
    file written before that was recorded (in DuckDB 2's own format, which older clients cannot read), or
    in another format, is rebuilt rather than copied."""
    if not target.exists():
        return []
    stat = target.stat()
    written = con.execute(
        "SELECT size_bytes, modified_ns, storage_version FROM snapshot_files WHERE path = ? "
        "ORDER BY rowid DESC LIMIT 1",
        [str(target.resolve())],
    ).fetchall()
    if written != [(stat.st_size, stat.st_mtime_ns, SNAPSHOT_STORAGE_VERSION)]:
        return []
    try:
        con.execute(f"ATTACH ? AS {PREVIOUS} (READ_ONLY)", [str(target)])
    except duckdb.Error:
        return []
    try:
        waves = con.execute(read_sql("snapshot_kept_waves")).fetchall()
        columns = [
            con.execute(
                "SELECT table_name, column_index, column_name, data_type FROM duckdb_columns() "
                "WHERE database_name = ? AND schema_name = 'main' AND list_contains(?, table_name) ORDER BY ALL",
                [database, list(RESPONDENT_TABLES)],
            ).fetchall()
            for database in (working, PREVIOUS)
        ]
    except duckdb.Error:
        return []  # not a snapshot this code wrote (no load_log, say): build afresh
    finally:
        con.execute(f"DETACH {PREVIOUS}")
    if columns[0] != columns[1] or not all(same_load for _, _, same_load in waves):
        return []
    return [(survey_id, wave_id) for survey_id, wave_id, _ in waves]


def _fill_snapshot(con: duckdb.DuckDBPyConnection, working: str, publication: dict, codebooks: list[Codebook],
                   views: list[str], kept: list[tuple[str, str]]) -> dict:
    ddl = dict(con.execute(
        "SELECT table_name, sql FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'", [working]
    ).fetchall())
    tables = [t.name for t in published_tables()]
    missing = [t for t in tables if t not in ddl and t not in DERIVED_TABLES]
    if missing:
        raise PublishFailed(f"the working database has no table {', '.join(missing)}")
    rewritten = [t for t in tables if not (kept and t in RESPONDENT_TABLES)]
    if kept:
        con.execute("CREATE OR REPLACE TEMP TABLE kept_waves (survey_id VARCHAR, wave_id VARCHAR)")
        con.executemany("INSERT INTO temp.kept_waves VALUES (?, ?)", kept)
    con.execute(f"USE {SNAPSHOT}")
    try:
        # A copied snapshot's views are made again from today's codebooks (a survey may have gone).
        for (view,) in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = ? AND NOT internal",
                                   [SNAPSHOT]).fetchall():
            con.execute(f"DROP VIEW {identifier(view)}")
        for table in rewritten:
            con.execute(f'DROP TABLE IF EXISTS "{table}"')
            if table not in DERIVED_TABLES:
                con.execute(ddl[table])  # the working table's own definition, keys included
        con.execute(read_sql("snapshot_schema"))
        # With the snapshot as default database, so that the views name its own tables.
        for statement in views:
            con.execute(statement)
    finally:
        con.execute(f'USE "{working}"')
    rows = {}
    with transaction(con):
        for table in tables:
            if table in DERIVED_TABLES:
                continue
            # Into a copied snapshot, only the waves it does not hold yet.
            only_new = " WHERE NOT EXISTS (SELECT 1 FROM temp.kept_waves AS k " \
                       "WHERE k.survey_id = t.survey_id AND k.wave_id = t.wave_id)"
            con.execute(
                f'INSERT INTO {SNAPSHOT}.main."{table}" BY NAME SELECT * FROM "{working}".main."{table}" AS t'
                + (only_new if kept and table in RESPONDENT_TABLES else "")
            )
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
) -> Snapshot:
    """Build the snapshot from the working database ``con`` and rename it over ``target``.

    The caller holds the writer lock. Returns what it wrote. On any failure (disk
    full, no permission) the half-built file is removed, ``target`` is left as it was and
    ``PublishFailed`` says why.
    """
    target = Path(target)
    publication = {
        "run_id": run_id,
        "published_at": published_at or dt.datetime.now(dt.timezone.utc),
        "code_version": code_version,
    }
    codebooks = list(codebooks)
    try:
        views = view_statements(codebooks)
    except ValueError as exc:  # a codebook the wide view cannot be made from
        raise PublishFailed(f"not publishing the analysts' warehouse {target}: {exc}. "
                            f"The previous snapshot is unchanged.") from None
    temporary = _temporary_path(target, run_id)
    working = con.execute("SELECT current_database()").fetchall()[0][0]
    stale = con.execute(read_sql("stale_wave_results"), {"result_tables": list(WAVE_RESULT_TABLES)}).fetchall()
    if stale:
        waves = sorted({f"{survey_id}/{wave_id}" for survey_id, wave_id, _ in stale})
        raise PublishFailed(
            f"not publishing the analysts' warehouse {target}: the results of {', '.join(waves)} were not "
            f"computed from its latest load (a run failed or was stopped after loading it). The previous "
            f"snapshot is unchanged; `survey run` loads the wave again and publishes."
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_unfinished(target)
        kept = kept_waves(con, target, working)
        if kept:
            shutil.copyfile(target, temporary)  # a file analysts only read, checkpointed when it was written
        con.execute(f"ATTACH ? AS {SNAPSHOT} (STORAGE_VERSION ?)", [str(temporary), SNAPSHOT_STORAGE_VERSION])
        try:
            rows = _fill_snapshot(con, working, publication, codebooks, views, kept)
        except BaseException:
            _detach_quietly(con, working)  # the first error is the one worth reporting
            raise
        con.execute(f"DETACH {SNAPSHOT}")
        con.execute("DROP TABLE IF EXISTS temp.kept_waves")
        if temporary.with_name(temporary.name + ".wal").exists():
            raise PublishFailed(f"{temporary} was not fully checkpointed")
        _fsync(temporary)
        written = temporary.stat()  # the rename keeps size and time; a writer after it must show as a change
        stop_point("publish")
        os.replace(temporary, target)
    except (duckdb.Error, OSError, PublishFailed) as exc:
        _discard(temporary)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PublishFailed(
            f"could not publish the analysts' warehouse {target}: {reason}. "
            f"The previous snapshot is unchanged; the working database keeps the new data for the next run."
        ) from exc
    except BaseException:
        _discard(temporary)
        raise
    try:
        _fsync(target.parent)  # makes the rename itself durable; the new file is in place either way
    except OSError:
        pass
    # Recorded in the working database only once analysts can see it, so an interrupted publish is
    # redone by the next run.
    with transaction(con):
        con.execute(f"INSERT INTO publications BY NAME {read_sql('publication_rows')}", publication)
        con.execute("INSERT INTO snapshot_files (run_id, path, size_bytes, modified_ns, storage_version) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [run_id, str(target.resolve()), written.st_size, written.st_mtime_ns, SNAPSHOT_STORAGE_VERSION])
    return Snapshot(rows, kept)


def _detach_quietly(con: duckdb.DuckDBPyConnection, working: str) -> None:
    for statement in (f'USE "{working}"', f"DETACH {SNAPSHOT}", "DROP TABLE IF EXISTS temp.kept_waves"):
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
    """For each wave in the latest publication: its codebook version and source files (name → sha256)."""
    rows = con.execute(
        """
        SELECT survey_id, wave_id, codebook_version, source_file, sha256
        FROM publications
        WHERE run_id = (SELECT arg_max(run_id, published_at) FROM publications)
        """
    ).fetchall()
    waves: dict[tuple[str, str], dict] = {}
    for survey_id, wave_id, codebook_version, source_file, sha256 in rows:
        wave = waves.setdefault((survey_id, wave_id), {"codebook_version": codebook_version, "files": {}})
        wave["files"][source_file] = sha256
    return waves


def published_inputs(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str | None]:
    """The inputs fingerprint of each wave in the latest publication, by (survey id, wave id), from the
    working database or an analysts' snapshot (both hold ``publications``)."""
    try:
        rows = con.execute(read_sql("published_inputs")).fetchall()
    except duckdb.BinderException:
        return {}  # published before fingerprints were recorded: every wave is loaded again, once
    return {(survey_id, wave_id): fingerprint for survey_id, wave_id, fingerprint in rows}


def read_published_inputs(snapshot: Path) -> dict[tuple[str, str], str | None]:
    """``published_inputs`` of the analysts' snapshot, opened read-only beside analysts (empty when there is
    none yet); raises ``duckdb.Error`` when it cannot be opened (a client holding it to write)."""
    if not snapshot.exists():
        return {}
    with duckdb.connect(str(snapshot), read_only=True) as con:
        return published_inputs(con)


def loaded_waves(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Every wave the working database holds a load of, by (survey id, wave id)."""
    return [tuple(row) for row in con.execute(
        "SELECT DISTINCT survey_id, wave_id FROM load_log ORDER BY ALL").fetchall()]
