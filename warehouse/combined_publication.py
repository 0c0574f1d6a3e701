"""The analysts' warehouse, every survey in one file, combined from the surveys' own snapshots.

Each survey publishes a snapshot of its own (``warehouse.publication``, ``<home>/warehouse/surveys/<survey>.duckdb``)
under its own writer lock, so two surveys publish side by side. Analysts still open one file,
``<home>/warehouse/survey.duckdb``: after each survey's snapshot is in place it is combined again, under a lock of
its own held for the combining only, from every survey's latest snapshot. Whichever of two publications combines
last reads both new snapshots, so neither loses the other's update.

Combining copies the largest snapshot's file (a sequential copy, whatever it holds) and inserts the other surveys'
rows into the copy, so its cost grows with the smaller surveys only; the views and comments are then made again
for every survey. Like a snapshot, the file is built under a hidden name beside the target, checkpointed, synced
and renamed over it in one step: readers see the old warehouse or the new one, and open connections keep theirs.

Why one file rather than the alternatives measured (docs/deployment.md): DuckDB keeps no ATTACH in a database
file, so a small catalog file attaching the snapshots would need every analyst's client to run a script on opening
it; views over the Parquet files would show a survey half-published (one partition at a time) and hold absolute
paths. What does not belong here: building a survey's snapshot (``warehouse.publication``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import duckdb

from schemas.codebook import Codebook
from sql_text import identifier
from warehouse.connection import copy_rows, table_columns
from warehouse.dictionary import comment_statements
from warehouse.publication import PublishFailed, drop_views, remove_unfinished, replaced_whole, temporary_path
from warehouse.snapshot_views import view_statements

COMBINED = "combined"  # the alias of the file being built
# Tables without a survey (the trust reference list) are the same in every snapshot: taken from the copied one.
SURVEY_COLUMN = "survey_id"


def combine_snapshots(snapshots: Iterable[Path], target: Path, codebooks: Iterable[Codebook], run_id: str,
                      memory_limit_mb: int, fresh: Path | None = None, carried: Iterable[str] = ()) -> dict[str, int]:
    """Combine the surveys' ``snapshots`` into ``target``, renamed over it in one step; returns the rows of each
    table. ``fresh``: the snapshot just published, whose tables and columns (this release's) the file takes; the
    largest snapshot is copied only when it has the same. ``carried``: surveys with no snapshot yet (a home split by
    this release), whose rows are kept from the current ``target``. Call with the publication lock held. On failure
    ``target`` is unchanged and ``PublishFailed`` says why."""
    parts = sorted((Path(p) for p in snapshots if Path(p).is_file()), key=lambda p: (-p.stat().st_size, p.name))
    if not parts:
        raise PublishFailed("no survey has a snapshot to combine")
    codebooks = list(codebooks)
    try:
        views = view_statements(codebooks)
    except ValueError as exc:  # a codebook the wide view cannot be made from
        raise PublishFailed(f"could not publish the analysts' warehouse {target}: {exc}. The previous warehouse "
                            "is unchanged.") from None
    temporary = temporary_path(target, run_id)
    spill = Path(f"{temporary}.spill")
    try:
        with replaced_whole(target, temporary, "combine", "the next publication of any survey combines it again"):
            target.parent.mkdir(parents=True, exist_ok=True)
            remove_unfinished(target)
            base = _base(parts, fresh)
            shutil.copyfile(base, temporary)
            config = {"memory_limit": f"{int(memory_limit_mb)}MB", "temp_directory": str(spill)}
            with duckdb.connect(config=config) as con:
                con.execute("SET preserve_insertion_order = false")
                con.execute(f"ATTACH ? AS {COMBINED}", [str(temporary)])
                carried = list(carried) if target.is_file() else []
                rows = _combine(con, [p for p in parts if p != base], views, codebooks,
                                (target, carried) if carried else None)
                con.execute(f"CHECKPOINT {COMBINED}")
                con.execute(f"DETACH {COMBINED}")
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    return rows


def _base(parts: list[Path], fresh: Path | None) -> Path:
    """The largest snapshot with the fresh one's tables and columns (a snapshot written by an earlier release may
    lack a column this one comments on), else the fresh one."""
    if fresh is None:
        return parts[0]
    with duckdb.connect() as con:
        con.execute("ATTACH ? AS fresh (READ_ONLY)", [str(fresh)])
        wanted = table_columns(con, "fresh")
        for part in parts:
            if part == fresh:
                return part
            con.execute("ATTACH ? AS candidate (READ_ONLY)", [str(part)])
            same = table_columns(con, "candidate") == wanted
            con.execute("DETACH candidate")
            if same:
                return part
    return fresh


def _insert_rows(con: duckdb.DuckDBPyConnection, alias: str, combined: dict[str, list[str]],
                 surveys: list[str] | None = None) -> None:
    for table, columns in table_columns(con, alias).items():
        wanted = combined.get(table, [])
        if SURVEY_COLUMN in wanted and SURVEY_COLUMN in columns:  # a column the combined file lacks is left out
            copy_rows(con, alias, COMBINED, table, columns, wanted,
                      *(("list_contains(?, survey_id)", [surveys]) if surveys is not None else ()))


def _combine(con: duckdb.DuckDBPyConnection, others: list[Path], views: list[str], codebooks: list[Codebook],
             previous: tuple[Path, list[str]] | None) -> dict[str, int]:
    combined = table_columns(con, COMBINED)
    for number, part in enumerate(others):
        alias = f"part{number}"
        con.execute(f"ATTACH ? AS {alias} (READ_ONLY)", [str(part)])
        _insert_rows(con, alias, combined)
        con.execute(f"DETACH {alias}")
    if previous is not None:  # surveys not yet published by this release: as the analysts have them now
        con.execute("ATTACH ? AS previous (READ_ONLY)", [str(previous[0])])
        _insert_rows(con, "previous", combined, previous[1])
        con.execute("DETACH previous")
    drop_views(con, COMBINED)
    con.execute(f"USE {COMBINED}")  # so that the views name its own tables
    for statement in views:
        con.execute(statement)
    for statement in comment_statements(COMBINED, codebooks):
        con.execute(statement)
    con.execute("USE memory")
    return {table: con.execute(f"SELECT count(*) FROM {COMBINED}.main.{identifier(table)}").fetchone()[0]
            for table in combined}
