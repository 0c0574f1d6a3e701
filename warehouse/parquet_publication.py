"""The analysts' warehouse as Parquet, for any engine on any machine: every table of the published DuckDB
snapshot, hive-partitioned under ``<home>/warehouse/parquet/``.

A table with a wave is written per wave (``<table>/survey_id=<s>/wave_id=<w>/data.parquet``), a table of a survey
per survey (``<table>/survey_id=<s>/data.parquet``), any other whole (``<table>/data.parquet``); the partition
columns are in the path, not in the file, as hive partitioning has them. The rows are read from the snapshot just
published, so the Parquet holds exactly its rows. Each file is written beside its partition under a hidden name
and renamed over ``data.parquet`` in one step: a reader sees the old file or the new one, never a mix (pyarrow,
Polars, Spark and DuckDB's globs ignore names starting with a dot). The partitions of a wave no longer published
(withdrawn) are removed.

Writing costs time in proportion to the rows: the respondent-level tables (``RESPONDENT_TABLES``) of a wave are written
again only when the wave's latest load differs from the one last written (``_written.<survey>.json``, beside them); the
rest, a few rows per indicator, are written every time.

What does not belong here: building the DuckDB snapshot (``warehouse.publication``).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb

from sql_text import identifier
from warehouse.connection import table_columns
from warehouse.load import RESPONDENT_TABLES

PARQUET_FOLDER = "parquet"  # beside the snapshot: <home>/warehouse/parquet/
DATA_FILE = "data.parquet"
# Per survey, per table and wave: the load (and columns) whose respondent-level rows are on disk.
STATE_FILE = "_written.{survey_id}.json"
SHARED_STATE_FILE = "_written.json"  # what releases that published every survey at once kept: no longer read
SNAPSHOT = "published"
PARTIAL_SUFFIX = ".partial"  # a file being written; renamed over its target when whole


def _write(con: duckdb.DuckDBPyConnection, table: str, keys: dict[str, str], columns: list[str], folder: Path) -> int:
    """The table's rows with ``keys`` (partition column → value), without those columns, into
    ``folder/data.parquet`` (DuckDB's own Parquet writer), replaced in one step; returns the rows written."""
    kept = ", ".join(identifier(c) for c in columns if c not in keys)
    where = " AND ".join(f"{identifier(k)} = ${k}" for k in keys) or "true"
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{DATA_FILE}.{os.getpid()}{PARTIAL_SUFFIX}"
    try:
        [(rows,)] = con.execute(f"COPY (SELECT {kept} FROM {SNAPSHOT}.main.{identifier(table)} WHERE {where}) "
                                "TO $path (FORMAT parquet)", {**keys, "path": str(partial)}).fetchall()
        partial.replace(folder / DATA_FILE)
    finally:
        partial.unlink(missing_ok=True)
    return rows


def _written_by_living_process(partial: Path) -> bool:
    """Whether a partial file (``.data.parquet.<pid>.partial``) is being written by a process still running."""
    pid = partial.name.removesuffix(PARTIAL_SUFFIX).rsplit(".", 1)[-1]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _partition(root: Path, table: str, keys: dict[str, str]) -> Path:
    return root.joinpath(table, *(f"{k}={v}" for k, v in keys.items()))


def _on_disk(root: Path, table: str, depth: int) -> set[tuple[str, ...]]:
    """The partitions of a table now on disk, as their values (``survey_id=...``, then ``wave_id=...``)."""
    found = set()
    for path in (root / table).glob("/".join(["*=*"] * depth)):
        if path.is_dir():
            found.add(tuple(part.split("=", 1)[1] for part in path.relative_to(root / table).parts))
    return found


def publish_parquet(snapshot: Path, root: Path, survey_id: str, memory_limit_mb: int | None = None) -> dict[str, int]:
    """Write every table of the survey's ``snapshot`` under ``root`` as hive-partitioned Parquet, the survey's
    partitions only (another survey publishes its own meanwhile); returns the rows written per table (a partition
    left as it was counts none). Call with the survey's writer lock, after its snapshot is published;
    ``memory_limit_mb`` bounds DuckDB's memory while it writes."""
    root.mkdir(parents=True, exist_ok=True)
    # What a publication of this survey killed while writing left (another survey's are its own to clear).
    for leftover in (*root.glob(f"*/survey_id={survey_id}/**/.*{PARTIAL_SUFFIX}"),
                     *root.glob(f"*/.*{PARTIAL_SUFFIX}")):
        if not _written_by_living_process(leftover):
            leftover.unlink(missing_ok=True)
    (root / SHARED_STATE_FILE).unlink(missing_ok=True)
    state_path = root / STATE_FILE.format(survey_id=survey_id)
    written = json.loads(state_path.read_text(encoding="utf-8")) if state_path.is_file() else {}
    counts: dict[str, int] = {}
    done: dict[str, dict[str, str]] = {t: {w: sig for w, sig in waves.items()} for t, waves in written.items()}
    # As the working database's writer: beyond the limit DuckDB spills to disk.
    config = {"memory_limit": f"{int(memory_limit_mb)}MB"} if memory_limit_mb is not None else {}
    with duckdb.connect(config=config) as con:
        con.execute("SET enable_progress_bar = false")  # a step's log, not a terminal
        con.execute(f"ATTACH ? AS {SNAPSHOT} (READ_ONLY)", [str(snapshot)])
        loads = dict(con.execute(f"SELECT survey_id || '/' || wave_id, arg_max(run_id, loaded_at) "
                                 f"FROM {SNAPSHOT}.main.load_log GROUP BY ALL").fetchall())
        # Tables only: the views (a wide view per survey, the labelled answers) are made from them, in any engine.
        for table, columns in table_columns(con, SNAPSHOT).items():
            keys = [k for k in ("survey_id", "wave_id") if k in columns]
            if "survey_id" not in keys:
                keys = []
            present = {tuple(row) for row in con.execute(
                f"SELECT DISTINCT {', '.join(keys)} FROM {SNAPSHOT}.main.{identifier(table)} WHERE survey_id = ?",
                [survey_id]).fetchall()} if keys else {()}
            counts[table] = 0
            for values in sorted(present):
                partition = dict(zip(keys, values))
                folder = _partition(root, table, partition)
                wave = "/".join(values)
                signature = f"{loads.get(wave)} {','.join(columns)}"  # the load, and the table's columns
                if (table in RESPONDENT_TABLES and (folder / DATA_FILE).is_file()
                        and written.get(table, {}).get(wave) == signature):
                    continue  # this load's rows are on disk already, as the table now has them
                counts[table] += _write(con, table, partition, columns, folder)
                if table in RESPONDENT_TABLES:
                    done.setdefault(table, {})[wave] = signature
            ours = {values for values in _on_disk(root, table, len(keys)) if values[0] == survey_id} if keys else set()
            for gone in ours - present:
                shutil.rmtree(_partition(root, table, dict(zip(keys, gone))), ignore_errors=True)
                done.get(table, {}).pop("/".join(gone), None)
            survey = _partition(root, table, {"survey_id": survey_id})
            if keys and survey.is_dir() and not any(survey.iterdir()):
                survey.rmdir()  # none of the survey's waves is published any more
    partial = state_path.with_name(f".{state_path.name}.{os.getpid()}{PARTIAL_SUFFIX}")
    partial.write_text(json.dumps(done, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    partial.replace(state_path)
    return counts
