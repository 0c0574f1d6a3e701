"""Validating a wave against its codebook: valid rows go on, failing rows go to quarantine with a reason.

Every row read ends up either in the wave's valid rows or, with one quarantine entry per failure, in
``WaveValidation.quarantine``. In order:
1. each file is copied into the wave's own staging database (``validation.files``): a file that cannot
   be used whole is refused, and nothing of the wave goes on;
2. every rule runs once over all the wave's rows (``validation.rules``): cells made canonical and
   checked by the pandera schema generated from the codebook, trusts given by name or by a merged
   trust's old code mapped to the current ODS code (the value as given kept in ``trust_code_reported``),
   partial responses and earlier submissions of a respondent quarantined;
3. the valid rows stay in the staging database, without personal data, until the warehouse loads them
   (``warehouse.load``); ``discard()`` removes it.

What does not belong here: reading file formats (``exports``) and writing to the warehouse.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from exports import SOURCE_ROW, ReadLimits
from exports.base import refuse_irregular
from schemas.codebook import Codebook
from schemas.reference import TrustResolver
from schemas.response_schema import build_response_schema
from sql_text import read_sql
from validation.files import scan_file, stage_file
from validation.quarantine import CLEANING_COLUMNS, QUARANTINE_COLUMNS, described_cleaning, with_reasons
from validation.rules import SQL_DIR, WaveRules

# DuckDB's own memory while staging; it spills to the staging folder beyond this. Reading the files gets
# more (a lower limit made reading a 1 GB file twice as slow); the joins and windows after it get less,
# which kept a wave of ten million respondents from peaking at 2.4 GB (docs/performance.md).
STAGING_READ_MEMORY_LIMIT = "2GB"
STAGING_MEMORY_LIMIT = "1GB"


@dataclass(frozen=True)
class SourceFile:
    """One landed file of a wave, as recorded in the load log."""

    name: str
    layout: str
    sha256: str
    size_bytes: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    duplicate_of: str | None = None  # an identical file of the same wave, which was read instead
    encoding: str | None = None  # how a text file's bytes were decoded (UTF-8, Windows-1252, UTF-16)


@dataclass(frozen=True)
class StagedWave:
    """The valid rows of a wave, in a staging database of their own, until they are loaded."""

    database: Path
    table: str = "valid_rows"

    def frame(self) -> pd.DataFrame:
        """The valid rows as a frame (for tests and small waves), in file and row order."""
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(f"SELECT * FROM {self.table} ORDER BY file_order, {SOURCE_ROW}").df().drop(
                columns=["file_order"])

    def discard(self) -> None:
        shutil.rmtree(self.database.parent, ignore_errors=True)


@dataclass(frozen=True)
class SubmissionTimes:
    """How many rows read have a submission time, and how many of those fall outside the wave's fieldwork."""

    timed: int
    outside: int
    start: dt.date
    end: dt.date

    @property
    def outside_share(self) -> float:
        return self.outside / self.timed if self.timed else 0.0

    def __str__(self) -> str:
        return (f"{self.outside:,} of {self.timed:,} submission times ({self.outside_share:.0%}) fall outside the "
                f"wave's fieldwork, {self.start} to {self.end} (Europe/London)")


@dataclass(frozen=True)
class WaveValidation:
    """The outcome of validating every file of one wave."""

    staged: StagedWave  # the valid rows
    quarantine: pd.DataFrame  # QUARANTINE_COLUMNS, one row per failure (a row may fail several rules)
    files: tuple[SourceFile, ...]
    notes: tuple[str, ...] = ()  # why a plain CSV was read by its export reader rather than DuckDB's
    submission_times: SubmissionTimes | None = None
    # Answers of loading rows cleaned away (CLEANING_COLUMNS): given where the routing says the question was
    # not asked. The rows load; the cells are not stored.
    cleaning: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CLEANING_COLUMNS))

    def cleaned_by_rule(self) -> dict[str, int]:
        """Cells cleaned away, by rule (counts only: never a value)."""
        return {str(k): int(v) for k, v in self.cleaning.groupby("rule").size().items()}

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def quarantined_share(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0

    def quarantined_shares_by_rule(self) -> dict[str, float]:
        """Per rule, the share of rows read that it quarantines, largest first (a row failing two rules
        counts under both)."""
        rows = self.quarantine.drop_duplicates(["source_file", "source_row", "rule"]).groupby("rule").size()
        return {rule: n / self.rows_read for rule, n in rows.sort_values(ascending=False, kind="stable").items()}

    def refusal_for_quarantine(self, limit: float) -> str | None:
        """Why the wave is refused if more than ``limit`` of its rows are quarantined (a wrong layout or
        survey, more often than bad answers), counts and rules only: never a value."""
        if self.quarantined_share <= limit:
            return None
        by_rule = ", ".join(f"{rule} {share:.0%}" for rule, share in self.quarantined_shares_by_rule().items())
        return (f"{self.quarantined_share:.0%} of its {self.rows_read:,} rows would be quarantined, over the limit of "
                f"{limit:.0%} (by rule: {by_rule})")

    def valid_rows(self) -> pd.DataFrame:
        """The valid rows as a frame (the whole wave in memory: small waves, tests)."""
        return self.staged.frame()

    def discard(self) -> None:
        """Remove the staging database, once the wave is loaded (or will not be)."""
        self.staged.discard()


def text_columns(codebook: Codebook) -> set[str]:
    """The free-text questions' columns, whose values are described even in the private quarantine."""
    return {q.id for q in codebook.questions if q.type == "text"}


def validate_wave(
    paths: list[Path], codebook: Codebook, wave_id: str, resolver: TrustResolver, layout: str | None = None,
    limits: ReadLimits | None = None, staging_dir: Path | None = None,
    progress: Callable[[str, int | None], None] | None = None,
) -> WaveValidation:
    """Read and validate every file of a wave against the questionnaire as asked in that wave; raises
    ``WaveFileRejected`` if any file is unusable.

    The files of a wave are validated together: a respondent may appear in more than one of them. The
    staging database is a new folder under ``staging_dir`` (default: the system's temporary folder); the
    caller loads the valid rows and then calls ``discard()``. ``progress`` is told each stage reached
    ("reading", "validating") with the rows read when known.
    """
    progress = progress or (lambda stage, rows: None)
    progress("reading", None)
    codebook = codebook.for_wave(wave_id)
    schema = build_response_schema(codebook, resolver.codes)
    for path in paths:  # before anything opens one: a named pipe would block the read
        refuse_irregular(path)
    staged = StagedWave(_new_staging_folder(staging_dir) / "staging.duckdb")
    # One read of each file for its digest (the load log, the archive) and its line breaks, in a thread beside
    # DuckDB's read of the files: hashing releases the interpreter, and the two reads overlap.
    pool = ThreadPoolExecutor(max_workers=1)
    scans = {path: pool.submit(scan_file, path) for path in paths}
    try:
        with duckdb.connect(str(staged.database), config={
            "memory_limit": STAGING_READ_MEMORY_LIMIT, "temp_directory": str(staged.database.parent / "spill"),
            "preserve_insertion_order": True,
        }) as con:
            con.execute("SET enable_progress_bar = false")
            files, entries, duplicate_of = _validate(con, paths, scans, codebook, schema, resolver, layout, limits,
                                                     progress)
            cleaning = con.execute(f"SELECT {', '.join(CLEANING_COLUMNS)} FROM cleaning_entries "
                                   f"ORDER BY file_order, {SOURCE_ROW}, column_name").df()
            wave = codebook.wave(wave_id)
            timed, outside = con.execute(read_sql(SQL_DIR, "fieldwork_counts"),
                                         {"start": wave.fieldwork_start, "end": wave.fieldwork_end}).fetchone()
            times = SubmissionTimes(timed, outside, wave.fieldwork_start, wave.fieldwork_end)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # a refused file, Ctrl-C: the other files' scans not awaited
        staged.discard()
        raise
    pool.shutdown()
    notes = tuple(f.note for f, _ in files if f.note)  # the caller says them where it reports the wave
    quarantine = with_reasons(entries, text_columns(codebook)) if len(entries) else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    source_files = [SourceFile(f.path.name, f.layout, scans[f.path].result().sha256, scans[f.path].result().size_bytes,
                               **counts, encoding=f.encoding) for f, counts in files]
    for path, earlier in duplicate_of.items():  # the same bytes as an earlier file: logged under both names
        scan = scans[path].result()
        source_files.append(SourceFile(path.name, "duplicate", scan.sha256, scan.size_bytes, 0, 0, 0,
                                       duplicate_of=earlier.name))
    return WaveValidation(staged, quarantine, tuple(source_files), notes, times,
                          described_cleaning(cleaning, text_columns(codebook)))


def _validate(con, paths, scans: dict[Path, Future], codebook, schema, resolver, layout, limits, progress):
    staged, duplicate_of = [], {}
    for path in paths:
        if staged:  # only a later file can repeat an earlier one (so the first is read while it is still hashed)
            read = {scans[f.path].result().sha256: f.path for f in staged}
            if (earlier := read.get(scans[path].result().sha256)) is not None:
                duplicate_of[path] = earlier  # the same bytes under two names are read once
                continue
        staged.append(stage_file(con, len(staged), path, scans[path].result, codebook, layout, limits))
    paths = [f.path for f in staged]
    progress("validating", sum(f.records for f in staged))
    con.execute(f"SET memory_limit = '{STAGING_MEMORY_LIMIT}'")
    WaveRules(con, codebook, schema, resolver, staged).run()
    entries = con.execute(
        "SELECT source_file, source_row, respondent_id, column_name, rule, offending_value, kept_source_file, "
        "kept_source_row FROM quarantine_entries").df()
    rows = con.execute(read_sql(SQL_DIR, "file_counts"), {"files": [p.name for p in paths]}).fetchall()
    counts = [(f, {"rows_read": read + f.malformed_rows, "rows_loaded": loaded, "rows_quarantined": quarantined})
              for f, (_, read, loaded, quarantined) in zip(staged, rows)]
    return counts, entries, duplicate_of


def _new_staging_folder(staging_dir: Path | None) -> Path:
    if staging_dir is not None:
        staging_dir.mkdir(parents=True, exist_ok=True)
        remove_abandoned(staging_dir)
    return Path(tempfile.mkdtemp(prefix=f"wave-{os.getpid()}-", dir=staging_dir))


def remove_abandoned(staging_dir: Path) -> None:
    """Staging folders of processes that died before loading (killed, say): nothing else will use them."""
    for folder in staging_dir.glob("wave-*-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
