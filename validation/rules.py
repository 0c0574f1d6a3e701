"""Every rule of the response contract, run once against a wave's rows in its staging database.

A wave of a million respondents has a hundred million cells but few distinct values in most columns, so
Python sees each column's *distinct* values only, a chunk at a time: they are made canonical (surrounding
spaces, the codebook's label for an alias, the current ODS code of a trust given by name or old code) and
checked by the column's pandera schema, generated from the codebook (``schemas.response_schema``). Of a
column whose schema checks no value (a respondent id: text, required), only the cells that stripping
would change or empty reach Python: every other cell is its own canonical form and passes. Personal-data
columns are neither checked nor loaded; an email is keyed in SQL (``sql/text_macros.sql``). SQL
then joins those verdicts back to the rows and applies the rules that span cells: a required
multiple-choice question needs a tick, an exclusive option ("None of these") is ticked alone, a routed
question's answers given where it was not asked are cleaned away (``cleaning_entries``), a partial response is quarantined unless the codebook counts it, and
a respondent who submitted more than once keeps the latest submission (``sql/superseded_submissions.sql``).
The export readers' own row failures (a row cut short, an unknown label in a joined cell) join the same
entries. Personal-data columns never reach ``valid_rows``.

What does not belong here: reading files (``validation.files``), wording reasons (``validation.quarantine``).
"""

from __future__ import annotations

import functools
from pathlib import Path

import duckdb
import pandas as pd
import pandera.pandas as pa
import pyarrow

from exports import COMPLETE, SOURCE_ROW, WHOLE_ROW
from exports.base import canonical_label
from schemas.codebook import Codebook
from schemas.emails import placeholders
from schemas.numbers import canonical_number
from schemas.quarantine_rules import (
    RULE_AT_LEAST_ONE_OPTION,
    RULE_EXCLUSIVE_OPTION,
    RULE_INCOMPLETE,
    RULE_NOT_ROUTED,
    RULE_REQUIRED,
    RULE_SUPERSEDED,
)
from schemas.reference import TrustResolver
from schemas.response_schema import parse_timestamps
from sql_text import identifier as quote_identifier
from sql_text import literal, read_sql
from validation.files import StagedFile
from validation.quarantine import SOURCE_FILE, failing_values

TRUST_REPORTED = "trust_code_reported"
SUBMITTED_AT_PARSED = "submitted_at_parsed"
EMAIL = "email"  # the personal-data column by which a respondent who resubmitted is also matched
DISTINCT_CHUNK = 100_000  # distinct values handed to Python at a time: bounds its memory
SQL_DIR = Path(__file__).parent / "sql"
ENTRY_COLUMNS = "file_order, source_file, source_row, respondent_id, column_name, rule, offending_value"


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, rows: pd.DataFrame) -> None:
    if len(rows):
        con.register("_rows", rows)
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
        con.unregister("_rows")


def _value_rows(rows: dict) -> pyarrow.Table:
    """A column's mapped values as an Arrow table (``value_map``'s columns that ``rows`` has)."""
    arrays = {name: pyarrow.array(values, type=pyarrow.string()) for name, values in rows.items()
              if name not in ("column_name", "parsed_at")}
    if "parsed_at" in rows:
        arrays["parsed_at"] = pyarrow.Array.from_pandas(rows["parsed_at"])
    return pyarrow.table({"column_name": pyarrow.repeat(rows["column_name"], len(rows["raw"])), **arrays})


class WaveRules:
    """The rules of one wave (``codebook`` already for that wave) over its staged files."""

    def __init__(self, con: duckdb.DuckDBPyConnection, codebook: Codebook, schema: pa.DataFrameSchema,
                 resolver: TrustResolver, files: list[StagedFile]):
        self.con, self.codebook, self.schema, self.resolver, self.files = con, codebook, schema, resolver, files
        self.id_column = codebook.respondent.id_column
        trust = codebook.respondent.trust
        self.trust_column = trust.column if trust is not None else None  # a survey may ask no trust
        self.canonical = list(codebook.expected_columns)
        self.personal = set(codebook.respondent.personal_data)

    def run(self) -> None:
        """Fill ``quarantine_entries``, ``quarantined_rows`` and ``valid_rows`` in the staging database."""
        con = self.con
        con.execute(read_sql(SQL_DIR, "text_macros"))
        changed = self._stage_values()
        con.execute("CREATE TABLE staged_files AS SELECT unnest($files) AS source_file, "
                    "generate_subscripts($files, 1) - 1 AS file_order", {"files": [f.path.name for f in self.files]})
        con.execute(self._wave_rows_sql(changed))
        self._cell_entries()
        self._superseded()
        con.execute(read_sql(SQL_DIR, "quarantine_entries"))
        kept = ", ".join(f"{self._answer(c)} AS {quote_identifier(c)}" for c in self.canonical if c not in self.personal)
        not_quarantined = (f"NOT EXISTS (SELECT 1 FROM quarantined_rows AS q WHERE q.file_order = wave_rows.file_order "
                           f"AND q.{SOURCE_ROW} = wave_rows.{SOURCE_ROW})")
        con.execute(
            f"CREATE VIEW valid_rows AS SELECT {SOURCE_ROW}, {kept}, {SOURCE_FILE}, {TRUST_REPORTED}, "
            f"{SUBMITTED_AT_PARSED}, file_order FROM wave_rows WHERE {not_quarantined}"
        )
        self._cleaning_entries(not_quarantined)

    # --- cells: distinct values, canonical and checked -----------------------------------------------

    def _chunks(self, select: str, table: str):
        """The rows of ``select``, stored as ``table``, a chunk at a time (read by row id: statements run on
        the connection meanwhile would discard a pending result)."""
        self.con.execute(f"CREATE TABLE {table} AS {select}")
        (rows,) = self.con.execute(f"SELECT count(*) FROM {table}").fetchone()
        for start in range(0, rows, DISTINCT_CHUNK):
            yield self.con.execute(f"SELECT * FROM {table} WHERE rowid >= $start AND rowid < $end",
                                   {"start": start, "end": start + DISTINCT_CHUNK}).df()

    def _distinct_values(self):
        """The distinct raw values Python must see, across the files, as (column_name, raw) chunks: every
        value of a checked or converted column, and of a column checked for nothing but being given, the
        missing value and the cells stripping changes (the rest are their own canonical form, and pass). A
        column some file lacks has a missing value too, which its rows hold."""
        parts = []
        for column in self.canonical:
            if column in self.personal:
                continue
            seen = "" if self._checks_values(column) else " WHERE raw IS NULL OR strip_changes(raw)"
            # Distinct within each column first: a column's scan is cheap, pairs of column and value are not.
            parts.append(f"SELECT {literal(column)} AS column_name, raw FROM "
                         f"(SELECT DISTINCT raw FROM ({self._raw_cells(column)}){seen})")
        for chunk in self._chunks(" UNION ALL ".join(parts), "distinct_values"):
            chunk["raw"] = chunk["raw"].astype(object).where(chunk["raw"].notna(), None)
            yield chunk

    def _raw_cells(self, column: str) -> str:
        """SQL of a canonical column's raw cells (``raw``) in every file, as read."""
        return " UNION ALL ".join(
            f"SELECT {quote_identifier(f.sources[column]) if column in f.sources else 'NULL::VARCHAR'} AS raw "
            f"FROM {f.table}" for f in self.files)

    def _checks_values(self, column: str) -> bool:
        """Whether a column's values are converted or checked one by one (not only for being given)."""
        return column in self._conversions or bool(self.schema.columns[column].checks)

    @functools.cached_property
    def _conversions(self) -> dict:
        """Per column, what makes a stripped cell canonical: the current code of a trust given by name or
        old code, the codebook's label for a choice's alias, a number's canonical text; other columns are
        canonical once stripped."""
        conversions = {q.id: functools.partial(canonical_label, q) for q in self.codebook.questions if q.answer_kind == "single"}
        # A number as its canonical text ("+7.0" is 7); what is no number stays as given, for the check to refuse.
        conversions |= {q.id: lambda v, q=q: canonical_number(v, q.integer, q.minimum, q.maximum) or v
                        for q in self.codebook.questions if q.type == "numeric"}
        conversions |= {f.column: functools.partial(canonical_label, f) for f in self.codebook.respondent.fields}
        if self.trust_column is not None:
            conversions[self.trust_column] = lambda v: self.resolver.resolve(v)[0]
        return conversions

    def _stage_values(self) -> set[str]:
        """Make every column's distinct values canonical and check them: ``value_map`` holds the values that
        change (every value of the submission time, with its parsed time, and of the trust, with the value
        as reported), ``cell_failures`` those failing a check. Returns the columns with a value that changes.

        Distinct values are handled as Python lists: most columns have a handful, for which pandas' own
        costs would be most of the time.
        """
        self.con.execute("CREATE TABLE value_map (column_name VARCHAR, raw VARCHAR, canonical VARCHAR, "
                         "parsed_at TIMESTAMPTZ, reported VARCHAR)")
        time_column, changed, failures = self.codebook.respondent.submitted_at_column, set(), set()
        for chunk in self._distinct_values():
            raw_values = chunk["raw"].to_numpy(dtype=object)
            mapped, canonical_values = [], {}
            for column, positions in chunk.groupby("column_name", sort=False).indices.items():
                raw = raw_values[positions].tolist()  # missing cells already None
                stripped = [None if v is None else (v.strip() or None) for v in raw]  # as the export readers strip
                convert = self._conversions.get(column)
                canonical = stripped if convert is None else [None if v is None else convert(v) for v in stripped]
                rows = {"column_name": column, "raw": raw, "canonical": canonical}
                if column == time_column:
                    # As a column of times, not an array of Timestamp objects (a second per million).
                    rows["parsed_at"] = parse_timestamps(pd.Series(canonical, dtype=object))
                elif column == self.trust_column:
                    rows["reported"] = stripped
                else:
                    keep = [r != c for r, c in zip(raw, canonical)]
                    rows = {"column_name": column, "raw": [r for r, k in zip(raw, keep) if k],
                            "canonical": [c for c, k in zip(canonical, keep) if k]}
                if rows["raw"]:
                    mapped.append(_value_rows(rows))
                    changed.add(column)
                canonical_values[column] = list(dict.fromkeys(canonical))
            if mapped:
                # As Arrow, which DuckDB reads as it is: a frame of Python strings took it a second a million.
                self.con.register("_rows", pyarrow.concat_tables(mapped, promote_options="default"))
                self.con.execute("INSERT INTO value_map BY NAME SELECT * FROM _rows")
                self.con.unregister("_rows")
            failures.update(self._verdicts(canonical_values))
        self.con.execute("CREATE TABLE cell_failures (column_name VARCHAR, value VARCHAR, rule VARCHAR, "
                         "offending_value VARCHAR)")
        insert_frame(self.con, "cell_failures", pd.DataFrame(
            sorted(failures, key=str), columns=["column_name", "value", "rule", "offending_value"]))
        return changed

    def _verdicts(self, canonical: dict[str, list]) -> set[tuple]:
        """(column, value, rule, offending value) for each distinct canonical value failing its column's checks.

        One pandera validation for the columns of a chunk with about as many distinct values (each column's
        own checks, which see that column alone): the shorter are padded with their first value, whose
        verdict is then found twice and kept once. Grouping by size keeps a column of a million ids from
        padding ninety columns of a handful of answers to a million.
        """
        groups: dict[int, dict[str, list]] = {}
        for column, values in canonical.items():
            groups.setdefault(max(len(values), 1024).bit_length(), {})[column] = values
        verdicts = set()
        for columns in groups.values():
            length = max(len(v) for v in columns.values())
            padded = {c: v + [v[0]] * (length - len(v)) for c, v in columns.items()}
            schema = pa.DataFrameSchema({c: self.schema.columns[c] for c in columns})
            try:
                schema.validate(pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in padded.items()}), lazy=True)
            except pa.errors.SchemaErrors as errors:
                cases = errors.failure_cases
            else:
                continue
            # Outside the except block: pandera's message quotes the failing cells, and an error raised while
            # handling it would carry it along as its context (into Dagster's failure record).
            verdicts.update(failing_values(cases, padded))
        return verdicts

    # --- routing ---------------------------------------------------------------------------------------

    @functools.cached_property
    def _question_of_column(self) -> dict[str, object]:
        return {c: q for q in self.codebook.questions for c in q.columns}

    def _answer(self, column: str) -> str:
        """A column's cells with the answers given where the routing says the question was not asked
        cleaned away (NULL); other columns as they are."""
        question = self._question_of_column.get(column)
        if question is None or question.asked_if is None:
            return quote_identifier(column)
        return f"CASE WHEN {self._routed(question.id)} THEN {quote_identifier(column)} END"

    def _routed(self, question_id: str) -> str:
        """SQL that is true for the rows routed to a question: its condition on the earlier question's
        answer, itself cleaned (a question routed from one that was not asked is not asked either)."""
        route = self.codebook.question(question_id).asked_if
        if route is None:
            return "true"
        condition = self.codebook.question(route.question)
        offered = [o for o in condition.options if o.id in route.options]  # as asked in this wave
        if condition.answer_kind == "single":
            labels = ", ".join(literal(o.label) for o in offered)
            return f"coalesce({self._answer(condition.id)} IN ({labels or 'NULL'}), false)"
        ticked = " OR ".join(f"{self._answer(condition.option_column(o.id))} = '1'" for o in offered)
        return f"coalesce({ticked or 'false'}, false)"

    def _routed_required_entries(self, whole_row: str) -> list[str]:
        """A routed single-choice or text question that is required needs an answer of those routed to it
        (the schema lets its cells be empty: those not routed leave it blank)."""
        return [f"SELECT {whole_row}, {literal(q.id)} AS column_name, {literal(RULE_REQUIRED)} AS rule, "
                f"NULL::VARCHAR AS offending_value FROM wave_rows "
                f"WHERE {self._routed(q.id)} AND {quote_identifier(q.id)} IS NULL"
                for q in self.codebook.questions if q.asked_if is not None and q.required and q.type != "multiple"]

    def _cleaning_entries(self, not_quarantined: str) -> None:
        """``cleaning_entries``: each answer of a row that loads given where the routing says its question
        was not asked (a 0 in an option column is no answer). The cell is not stored; the row still loads."""
        id_column = quote_identifier(self.id_column)
        parts = []
        for question in self.codebook.questions:
            if question.asked_if is None:
                continue
            for column in question.columns:
                name = quote_identifier(column)
                given = f"{name} = '1'" if question.type == "multiple" else f"{name} IS NOT NULL"
                parts.append(f"SELECT file_order, {SOURCE_FILE}, {SOURCE_ROW}, {id_column} AS respondent_id, "
                             f"{literal(column)} AS column_name, {literal(RULE_NOT_ROUTED)} AS rule, "
                             f"{name} AS offending_value FROM wave_rows "
                             f"WHERE {not_quarantined} AND {given} AND NOT {self._routed(question.id)}")
        empty = (f"SELECT NULL::INTEGER AS file_order, NULL::VARCHAR AS {SOURCE_FILE}, NULL::BIGINT AS {SOURCE_ROW}, "
                 "NULL::VARCHAR AS respondent_id, NULL::VARCHAR AS column_name, NULL::VARCHAR AS rule, "
                 "NULL::VARCHAR AS offending_value WHERE false")
        self.con.execute(f"CREATE TABLE cleaning_entries AS {' UNION ALL '.join(parts) or empty}")

    # --- rows ------------------------------------------------------------------------------------------

    def _wave_rows_sql(self, changed: set[str]) -> str:
        """One row per record of every file, in canonical columns, with what the rules need."""
        cells = [quote_identifier(c) for c in self.canonical if c != self.trust_column] + [TRUST_REPORTED]
        selects = []
        for f in self.files:
            columns, joins = [], []
            for position, column in enumerate(self.canonical):
                raw = f.sources.get(column)
                raw = None if raw is None else f"r.{quote_identifier(raw)}"
                name, m = quote_identifier(column), f"m{position}"
                if raw is None:
                    columns.append(f"NULL::VARCHAR AS {name}")
                    if column == self.codebook.respondent.submitted_at_column:
                        columns.append(f"NULL::TIMESTAMPTZ AS {SUBMITTED_AT_PARSED}")
                    if column == self.trust_column:
                        columns.append(f"NULL::VARCHAR AS {TRUST_REPORTED}")
                    continue
                if column in changed:
                    joins.append(f"LEFT JOIN value_map AS {m} ON {m}.column_name = {literal(column)} AND {m}.raw = {raw}")
                    columns.append(f"CASE WHEN {m}.raw IS NULL THEN {raw} ELSE {m}.canonical END AS {name}")
                else:
                    columns.append(f"{raw} AS {name}")
                if column == self.codebook.respondent.submitted_at_column:
                    columns.append(f"{m}.parsed_at AS {SUBMITTED_AT_PARSED}")
                if column == self.trust_column:
                    columns.append(f"{m}.reported AS {TRUST_REPORTED}")
            if self.trust_column is None:
                columns.append(f"NULL::VARCHAR AS {TRUST_REPORTED}")
            select = (f"SELECT {f.number} AS file_order, s.{SOURCE_FILE}, {f.row_number} AS {SOURCE_ROW}, "
                      f"{f.complete} AS {COMPLETE}, {', '.join(columns)} FROM {f.table} AS r "
                      f"JOIN staged_files AS s ON s.file_order = {f.number} {' '.join(joins)}")
            # DuckDB's reader keeps a record with no filled cell (a blank row: skipped, as in a spreadsheet,
            # its number kept); the export readers have skipped them already.
            if f.read_by_duckdb:
                select = f"SELECT * FROM ({select}) WHERE NOT ({' AND '.join(f'{c} IS NULL' for c in cells)})"
            selects.append(select)
        return f"CREATE VIEW wave_rows AS {' UNION ALL '.join(selects)}"

    def _cell_entries(self) -> None:
        """Entries of single cells, of the rules spanning cells and of the readers, and the rows they fail."""
        id_column = quote_identifier(self.id_column)
        parts = [f"SELECT {ENTRY_COLUMNS} FROM reader_entries"]
        self.con.execute("CREATE TABLE reader_entries (file_order INTEGER, source_file VARCHAR, source_row BIGINT, "
                         "respondent_id VARCHAR, column_name VARCHAR, rule VARCHAR, offending_value VARCHAR)")
        for f in self.files:
            if not f.reader_failures.empty:
                insert_frame(self.con, "reader_entries", f.reader_failures.assign(
                    file_order=f.number, source_file=f.path.name, respondent_id=None,
                    offending_value=f.reader_failures["offending_value"].map(lambda v: None if v is None else str(v))))
        for (column,) in self.con.execute("SELECT DISTINCT column_name FROM cell_failures ORDER BY 1").fetchall():
            parts.append(
                f"SELECT w.file_order, w.{SOURCE_FILE}, w.{SOURCE_ROW}, w.{id_column} AS respondent_id, f.column_name, "
                f"f.rule, f.offending_value FROM wave_rows AS w JOIN cell_failures AS f "
                f"ON f.column_name = {literal(column)} AND w.{quote_identifier(column)} IS NOT DISTINCT FROM f.value"
            )
        whole_row = f"file_order, {SOURCE_FILE}, {SOURCE_ROW}, {id_column} AS respondent_id"
        parts += self._routed_required_entries(whole_row)
        for question in self.codebook.questions:
            if question.type == "multiple" and question.required:  # of those routed to it ("true": everyone)
                none_ticked = " AND ".join(f"coalesce({quote_identifier(c)} <> '1', true)" for c in question.option_columns)
                parts.append(f"SELECT {whole_row}, {literal(question.id)} AS column_name, "
                             f"{literal(RULE_AT_LEAST_ONE_OPTION)} AS rule, 'no option ticked' AS offending_value "
                             f"FROM wave_rows WHERE {self._routed(question.id)} AND {none_ticked}")
            for option in (o for o in question.options if o.exclusive):
                exclusive = question.option_column(option.id)
                others = " OR ".join(f"{quote_identifier(c)} = '1'" for c in question.option_columns if c != exclusive)
                # The entry names the exclusive option's column; its value is the codebook's label, not a cell.
                parts.append(f"SELECT {whole_row}, {literal(exclusive)} AS column_name, "
                             f"{literal(RULE_EXCLUSIVE_OPTION)} AS rule, "
                             f"{literal(f'{option.label!r} ticked with another option')} AS offending_value "
                             f"FROM wave_rows WHERE {quote_identifier(exclusive)} = '1' AND ({others})")
        if not self.codebook.respondent.count_partial:
            parts.append(f"SELECT {whole_row}, {literal(WHOLE_ROW)} AS column_name, {literal(RULE_INCOMPLETE)} AS rule, "
                         f"'response not finished' AS offending_value FROM wave_rows WHERE NOT {COMPLETE}")
        self.con.execute(f"CREATE TABLE cell_entries AS {' UNION ALL '.join(parts)}")
        self.con.execute(f"CREATE TABLE failed_rows AS SELECT DISTINCT file_order, {SOURCE_ROW} FROM cell_entries")

    def _superseded(self) -> None:
        """Earlier submissions of a respondent, among the rows that pass every other rule."""
        email = EMAIL in self.personal
        column = quote_identifier(EMAIL)
        if email:
            # Each distinct email whose key is not the email itself (most are already keys: writing a
            # million rows that say so would be the most of this table's time).
            self.con.execute(
                "CREATE TABLE email_keys AS SELECT email, folded_email_key(folded, placeholders) AS email_key "
                "FROM (SELECT email, email_fold(email) AS folded "
                f"      FROM (SELECT DISTINCT raw AS email FROM ({self._raw_cells(EMAIL)}) WHERE raw IS NOT NULL)), "
                "     (SELECT list(email_fold(p)) AS placeholders FROM unnest($placeholders) AS t(p)) "
                "WHERE email_key IS DISTINCT FROM email",
                {"placeholders": list(placeholders(self.codebook.respondent.placeholder_emails))})
        self.con.execute(
            f"CREATE VIEW submissions AS SELECT w.file_order, w.{SOURCE_FILE}, w.{SOURCE_ROW}, "
            f"w.{quote_identifier(self.id_column)} AS respondent_id, "
            + (f"CASE WHEN k.email IS NULL THEN w.{column} ELSE k.email_key END AS email_key" if email
               else "NULL::VARCHAR AS email_key")
            + f", w.{SUBMITTED_AT_PARSED} AS submitted_at FROM wave_rows AS w "
            + (f"LEFT JOIN email_keys AS k ON k.email = w.{column} " if email else "")
            + f"WHERE NOT EXISTS (SELECT 1 FROM failed_rows AS f WHERE f.file_order = w.file_order "
            f"AND f.{SOURCE_ROW} = w.{SOURCE_ROW})"
        )
        self.con.execute(read_sql(SQL_DIR, "superseded_submissions"), {"rule": RULE_SUPERSEDED, "id_column": self.id_column})
