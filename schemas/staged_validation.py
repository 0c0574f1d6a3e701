"""Validating large plain-CSV waves inside DuckDB, with the contract and the outcomes of ``schemas.validation``.

A wave of a million respondents has a hundred million cells but few distinct values in most columns. Here
DuckDB reads the files into a staging database on disk, so memory stays flat whatever the wave's size, and
Python sees each column's *distinct* values only, a chunk at a time: they are made canonical by the
functions the pandas path uses (``exports.base``), trust codes resolved by the same resolver, and
checked by the same pandera schema, column by column. SQL then joins the verdicts back to the rows,
applies the one rule that spans columns (a required multiple-choice question needs a tick) and keeps the
latest of a respondent's submissions (``warehouse/sql/superseded_submissions.sql``). The quarantine and
the valid rows are those of the pandas path (``tests/test_staged_validation.py`` runs both).

Only files that DuckDB's strict CSV reader numbers exactly as a person would are staged. A file that is
not UTF-8, has blank lines (DuckDB skips them, which would shift row numbers) or rows of the wrong width
raises ``NotStageable``, and ``schemas.validation`` validates the wave on the pandas path, which handles
every case and names every bad row. The reason, logged and shown in Dagster, is worded here: DuckDB's own
message quotes the offending line, which can hold anything a person typed.

Offending values are returned as delivered; ``schemas.validation`` writes the reasons and describes free
text, for both engines.

What does not belong here: the rules (``schemas.response_schema``), other layouts (``exports``),
loading the valid rows (``warehouse.load``).
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pandera.pandas as pa

from exports import SOURCE_ROW, plain_csv
from exports.base import canonical_label
from schemas.codebook import Codebook, fold
from schemas.response_schema import PANDERA_CHECK_RULES, RULE_AT_LEAST_ONE_OPTION, RULE_SUPERSEDED, parse_timestamps
from schemas.staging import FileScan, NotStageable, StagedWave, headings, remove_abandoned

SOURCE_FILE = "source_file"
TRUST_REPORTED = "trust_code_reported"
SUBMITTED_AT_PARSED = "submitted_at_parsed"
DISTINCT_CHUNK = 100_000  # distinct values handed to Python at a time: bounds its memory
# DuckDB's own memory while staging; it spills to the staging folder beyond this. Reading the files gets
# more (a lower limit made reading a 1 GB file twice as slow); the joins and windows after it get less,
# which kept a wave of ten million respondents from peaking at 2.4 GB (docs/performance.md).
STAGING_READ_MEMORY_LIMIT = "2GB"
STAGING_MEMORY_LIMIT = "1GB"
SQL_DIR = Path(__file__).parent / "sql"


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


# What DuckDB's CSV reader reports, in our words; its message goes on to quote the line ("Original Line:").
CSV_PROBLEMS = (
    ("Expected Number of Columns", "a row with more or fewer cells than the header"),
    ("unterminated quote", "a cell with an unterminated quote"),
    ("Invalid unicode", "not UTF-8"),
    ("Maximum line size", "a line too long for DuckDB's reader"),
)


def csv_problem(message: str) -> str:
    """What DuckDB's CSV reader found wrong with a file, and on which line, without a word of the line."""
    kind = next((words for pattern, words in CSV_PROBLEMS if pattern.lower() in message.lower()),
                "a line DuckDB's strict CSV reader refuses")
    line = re.search(r"CSV Error on Line: (\d+)", message)
    return f"{kind} (line {line.group(1)} of the file)" if line else kind


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Staging:
    """One wave's staging database, and the SQL that fills it."""

    def __init__(self, con: duckdb.DuckDBPyConnection, codebook: Codebook, schema: pa.DataFrameSchema, resolver):
        self.con, self.codebook, self.schema, self.resolver = con, codebook, schema, resolver
        respondent = codebook.respondent
        self.id_column = respondent.id_column
        self.trust_column = respondent.trust.column
        self.canonical: list[str] = [c for c in codebook.expected_columns]
        self.rows_read = 0  # in the files read so far

    def read(self, number: int, path: Path, scan: FileScan) -> dict[str, str]:
        """Read one file into ``raw_<number>``; the canonical column each of its columns feeds."""
        names = headings(path)
        positional = {f"c{i}": "VARCHAR" for i in range(len(names))}
        try:
            self.con.execute(
                f"CREATE TABLE raw_{number} AS SELECT * FROM read_csv($path, columns = $columns, header = true, "
                "auto_detect = false, delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
                "encoding = 'utf-8')",
                {"path": str(path), "columns": positional},
            )
        except duckdb.Error as exc:
            raise NotStageable(f"{path.name}: {csv_problem(str(exc))}") from None
        records = self.con.execute(f"SELECT count(*) FROM raw_{number}").fetchone()[0]
        self.rows_read += records
        if records == 0:
            raise NotStageable(f"{path.name}: no responses")
        if not scan.numbered_as_read(records):
            raise NotStageable(f"{path.name}: has blank lines, whose numbers DuckDB does not count")
        plan = plain_csv.column_plan(path, names, self.codebook)
        return {target.column: f"c{i}" for i, target in enumerate(plan) if target is not None}

    def distinct_chunks(self, sources: list[tuple[int, str]]):
        """The distinct raw values of one canonical column across the files, a chunk at a time."""
        union = " UNION ".join(f"SELECT {column} AS raw FROM raw_{n}" for n, column in sources)
        # A cursor of its own: statements run on the connection meanwhile would discard this result.
        cursor = self.con.cursor().execute(f"SELECT DISTINCT raw FROM ({union})" if union else "SELECT NULL::VARCHAR AS raw")
        while len(chunk := cursor.fetch_df_chunk(DISTINCT_CHUNK // 2048)):
            yield chunk["raw"].astype(object).where(chunk["raw"].notna(), None)

    def convert(self, column: str, raw: pd.Series) -> pd.Series:
        """The canonical values of distinct raw cells, as ``exports.base.canonical_frame`` and the
        trust resolution of ``schemas.validation`` make them."""
        # _as_text of a str, vectorised: the same strip() (every Unicode space), empty as missing.
        text = raw.str.strip()
        text = text.where(text.notna() & (text != ""), None)
        if column == self.trust_column:
            return text.map(lambda v: self.resolver.resolve(v)[0], na_action="ignore").astype(object)
        question = self.choices.get(column)
        if question is not None:
            return text.map(lambda v: canonical_label(question, v), na_action="ignore").astype(object)
        return text

    def stage_column(self, position: int, column: str, sources: list[tuple[int, str]]) -> tuple[str, bool]:
        """Make one column's distinct values canonical (``map_<position>``: the values that change, with the
        parsed time for the submission time) and record those failing a check in ``cell_failures``."""
        table, with_time = f"map_{position}", column == self.codebook.respondent.submitted_at_column
        self.con.execute(f"CREATE TABLE {table} (raw VARCHAR, canonical VARCHAR"
                         + (", parsed_at TIMESTAMPTZ" if with_time else "") + ")")
        changed, failures = False, set()
        for raw in self.distinct_chunks(sources):
            canonical = self.convert(column, raw)
            rows = pd.DataFrame({"raw": raw, "canonical": canonical})
            if with_time:
                rows["parsed_at"] = parse_timestamps(canonical)
            else:
                rows = rows[raw.ne(canonical) & ~(raw.isna() & canonical.isna())]
            if len(rows):
                _insert(self.con, table, rows)
                changed = True
            failures.update(self.column_verdicts(column, list(pd.unique(canonical))))
        _insert(self.con, "cell_failures", pd.DataFrame(
            [(column, *f) for f in failures], columns=["column_name", "value", "rule", "offending_value"]))
        return table, changed

    @functools.cached_property
    def choices(self) -> dict:
        respondent = self.codebook.respondent
        choices = {q.id: q for q in self.codebook.questions if q.type == "single"}
        choices[respondent.role.column] = respondent.role
        return choices

    def column_verdicts(self, column: str, canonical: list) -> list[tuple]:
        """(value, rule, offending value) for each distinct canonical value that fails a pandera check."""
        if column not in self.schema.columns:  # personal data, kept only to match resubmissions
            return []
        schema = pa.DataFrameSchema({column: self.schema.columns[column]})
        frame = pd.DataFrame({column: pd.Series(canonical, dtype=object)})
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as errors:
            cases = errors.failure_cases
        else:
            return []
        # Outside the except block: pandera's message quotes the failing cells, and an error raised while
        # handling it would carry it along as its context (into Dagster's failure record).
        if cases["index"].isna().any():
            unexplained = cases[cases["index"].isna()][["column", "check"]].drop_duplicates()
            raise RuntimeError(f"validation failures not tied to a row: {unexplained.to_dict('records')}")
        verdicts = []
        for index, check, case in zip(cases["index"].astype(int), cases["check"].astype(str), cases["failure_case"]):
            rule = PANDERA_CHECK_RULES.get(check, check.split(":")[0])
            verdicts.append((canonical[index], rule, None if case is None or case != case else str(case)))
        return verdicts


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pd.DataFrame) -> None:
    if len(rows):
        con.register("_rows", rows)
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
        con.unregister("_rows")


def stage_wave(
    paths: list[Path], scans: dict[Path, FileScan], codebook: Codebook, schema: pa.DataFrameSchema, resolver,
    staging_dir: Path | None = None, progress=None,
) -> tuple[StagedWave, pd.DataFrame, dict[str, dict[str, int]]]:
    """Validate plain-CSV files of one wave (``codebook`` already for that wave) in a new staging database.

    Returns the staged valid rows, the quarantine entries (``QUARANTINE_COLUMNS`` without the reason)
    and per file {rows_read, rows_loaded, rows_quarantined}. Raises ``NotStageable`` (nothing kept) when a
    file needs the pandas path, ``WaveFileRejected`` when a file's header does not fit the codebook.
    ``progress(stage, rows)`` is told when the files are read and validation starts.
    """
    if staging_dir is not None:
        staging_dir.mkdir(parents=True, exist_ok=True)
        remove_abandoned(staging_dir)
    folder = Path(tempfile.mkdtemp(prefix=f"wave-{os.getpid()}-", dir=staging_dir))
    staged = StagedWave(folder / "staging.duckdb")
    try:
        with duckdb.connect(str(staged.database), config={
            "memory_limit": STAGING_READ_MEMORY_LIMIT, "temp_directory": str(folder / "spill"),
            "preserve_insertion_order": True,
        }) as con:
            con.execute("SET enable_progress_bar = false")
            quarantine, counts = _validate(con, paths, scans, codebook, schema, resolver,
                                           progress or (lambda stage, rows: None))
    except BaseException:
        staged.discard()
        raise
    return staged, quarantine, counts


def _validate(con, paths, scans, codebook, schema, resolver, progress):
    stage = _Staging(con, codebook, schema, resolver)
    sources: dict[str, list[tuple[int, str]]] = {c: [] for c in stage.canonical}
    for number, path in enumerate(paths):
        for column, raw in stage.read(number, path, scans[path]).items():
            sources[column].append((number, raw))
    progress("validating", stage.rows_read)
    con.execute(f"SET memory_limit = '{STAGING_MEMORY_LIMIT}'")

    # Each column's distinct values, made canonical and checked, in one pass.
    con.execute("CREATE TABLE cell_failures (column_name VARCHAR, value VARCHAR, rule VARCHAR, offending_value VARCHAR)")
    mapped = {column: stage.stage_column(n, column, sources[column]) for n, column in enumerate(stage.canonical)}
    con.execute("CREATE TABLE trust_reported (raw VARCHAR, reported VARCHAR)")
    for raw in stage.distinct_chunks(sources[stage.trust_column]):
        reported = raw.str.strip()
        _insert(con, "trust_reported", pd.DataFrame({"raw": raw, "reported": reported.where(reported != "", None)}))

    con.execute("CREATE TABLE staged_files AS SELECT unnest($files) AS source_file, "
                "generate_subscripts($files, 1) - 1 AS file_order", {"files": [p.name for p in paths]})
    con.execute(_wave_rows_sql(stage, paths, sources, mapped))
    _failures(con, stage)
    _superseded(con, codebook)
    personal = set(codebook.respondent.personal_data)
    kept = [c for c in stage.canonical if c not in personal]
    con.execute(
        f"CREATE VIEW valid_rows AS SELECT {SOURCE_ROW}, {', '.join(_quote(c) for c in kept)}, {SOURCE_FILE}, "
        f"{TRUST_REPORTED}, {SUBMITTED_AT_PARSED}, file_order FROM wave_rows "
        f"WHERE NOT EXISTS (SELECT 1 FROM quarantined_rows AS f WHERE f.file_order = wave_rows.file_order "
        f"AND f.{SOURCE_ROW} = wave_rows.{SOURCE_ROW})"
    )
    quarantine = con.execute(
        f"SELECT {SOURCE_FILE}, {SOURCE_ROW}, respondent_id, column_name, rule, offending_value, "
        "kept_source_file, kept_source_row FROM quarantine_entries").df()
    counts = {
        name: {"rows_read": read, "rows_loaded": loaded, "rows_quarantined": quarantined}
        for name, read, loaded, quarantined in con.execute(_sql("staged_file_counts"), {"files": [p.name for p in paths]}).fetchall()
    }
    return quarantine, counts


def _wave_rows_sql(stage: _Staging, paths, sources, mapped) -> str:
    """One row per non-blank record of every file, in canonical columns, with what validation needs."""
    selects = []
    for number in range(len(paths)):
        columns, joins = [], []
        for position, column in enumerate(stage.canonical):
            raw = dict(sources[column]).get(number)
            table, changed = mapped[column]
            if raw is None:
                columns.append(f"NULL::VARCHAR AS {_quote(column)}")
            elif changed:
                joins.append(f"LEFT JOIN {table} AS m{position} ON m{position}.raw = r.{raw}")
                columns.append(f"CASE WHEN m{position}.raw IS NULL THEN r.{raw} ELSE m{position}.canonical END "
                               f"AS {_quote(column)}")
            else:
                columns.append(f"r.{raw} AS {_quote(column)}")
            if column == stage.codebook.respondent.submitted_at_column:
                columns.append(f"m{position}.parsed_at AS {SUBMITTED_AT_PARSED}" if raw is not None else
                               f"NULL::TIMESTAMPTZ AS {SUBMITTED_AT_PARSED}")
                if raw is not None and not changed:
                    joins.append(f"LEFT JOIN {table} AS m{position} ON m{position}.raw = r.{raw}")
            if column == stage.trust_column:
                joins.append(f"LEFT JOIN trust_reported AS t ON t.raw = r.{raw}")
                columns.append(f"t.reported AS {TRUST_REPORTED}")
        selects.append(
            f"SELECT {number} AS file_order, f.{SOURCE_FILE}, r.rowid + 2 AS {SOURCE_ROW}, {', '.join(columns)} "
            f"FROM raw_{number} AS r JOIN staged_files AS f ON f.file_order = {number} {' '.join(joins)}"
        )
    cells = [_quote(c) for c in stage.canonical if c != stage.trust_column] + [TRUST_REPORTED]
    # A record with no filled cell is a blank row: skipped, as in a spreadsheet, but its number kept.
    return (f"CREATE VIEW wave_rows AS SELECT * FROM ({' UNION ALL '.join(selects)}) "
            f"WHERE NOT ({' AND '.join(f'{c} IS NULL' for c in cells)})")


def _failures(con, stage: _Staging) -> None:
    """Quarantine entries of single cells and of the rule spanning columns, and the rows that failed."""
    id_column = _quote(stage.id_column)
    parts = []
    for (column,) in con.execute("SELECT DISTINCT column_name FROM cell_failures ORDER BY 1").fetchall():
        quoted = _quote(column)
        parts.append(
            f"SELECT w.file_order, w.{SOURCE_FILE}, w.{SOURCE_ROW}, w.{id_column} AS respondent_id, "
            f"f.column_name, f.rule, f.offending_value FROM wave_rows AS w JOIN cell_failures AS f "
            f"ON f.column_name = {_literal_column(column)} AND w.{quoted} IS NOT DISTINCT FROM f.value"
        )
    for question in stage.codebook.questions:
        if question.type == "multiple" and question.required:
            none_ticked = " AND ".join(f"coalesce({_quote(c)} <> '1', true)" for c in question.option_columns)
            parts.append(
                f"SELECT file_order, {SOURCE_FILE}, {SOURCE_ROW}, {id_column} AS respondent_id, "
                f"{_literal_column(question.id)} AS column_name, '{RULE_AT_LEAST_ONE_OPTION}' AS rule, "
                f"'no option ticked' AS offending_value FROM wave_rows WHERE {none_ticked}"
            )
    empty = ("SELECT NULL::INTEGER AS file_order, NULL::VARCHAR AS source_file, NULL::BIGINT AS source_row, "
             "NULL::VARCHAR AS respondent_id, NULL::VARCHAR AS column_name, NULL::VARCHAR AS rule, "
             "NULL::VARCHAR AS offending_value WHERE false")
    con.execute(f"CREATE TABLE cell_entries AS {' UNION ALL '.join(parts) if parts else empty}")
    con.execute(f"CREATE TABLE failed_rows AS SELECT DISTINCT file_order, {SOURCE_ROW} FROM cell_entries")


def _literal_column(column: str) -> str:
    """A column name as an SQL string literal (names come from the codebook, whose ids are checked)."""
    return "'" + column.replace("'", "''") + "'"


def _superseded(con, codebook: Codebook) -> None:
    """Earlier submissions of a respondent, among the rows that pass every other rule."""
    email = "email" if "email" in codebook.respondent.personal_data else None
    if email:
        con.execute("CREATE TABLE email_keys (email VARCHAR, email_key VARCHAR)")
        cursor = con.cursor().execute('SELECT DISTINCT "email" FROM wave_rows WHERE "email" IS NOT NULL')
        while chunk := cursor.fetchmany(DISTINCT_CHUNK):
            rows = [(e, None if fold(e) == "anonymous" else fold(e)) for (e,) in chunk]
            _insert(con, "email_keys", pd.DataFrame(rows, columns=["email", "email_key"]))
    con.execute(
        f"CREATE VIEW submissions AS SELECT w.file_order, w.{SOURCE_FILE}, w.{SOURCE_ROW}, "
        f"w.{_quote(codebook.respondent.id_column)} AS respondent_id, "
        + ("k.email_key" if email else "NULL::VARCHAR AS email_key")
        + f", w.{SUBMITTED_AT_PARSED} AS submitted_at FROM wave_rows AS w "
        + ('LEFT JOIN email_keys AS k ON k.email = w."email" ' if email else "")
        + f"WHERE NOT EXISTS (SELECT 1 FROM failed_rows AS f WHERE f.file_order = w.file_order "
        f"AND f.{SOURCE_ROW} = w.{SOURCE_ROW})"
    )
    con.execute(_sql("superseded_submissions"), {"rule": RULE_SUPERSEDED, "id_column": codebook.respondent.id_column})
    con.execute(_sql("staged_quarantine"))

