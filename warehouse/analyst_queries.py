"""Read-only queries against the analysts' snapshot, for people without a DuckDB client (`survey sql`).

A query is refused before it runs unless it is one statement that reads (SELECT, with DESCRIBE, SHOW,
SUMMARIZE and FROM-first forms; EXPLAIN; PRAGMA and CALL of the catalog functions; a PIVOT). The
connection is read-only and has file access disabled as well, so nothing can write the snapshot or reach
other files.

What does not belong here: formatting the result for the terminal (the CLI).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
from tabulate import tabulate

READING_STATEMENTS = {
    duckdb.StatementType.SELECT,
    duckdb.StatementType.EXPLAIN,
    duckdb.StatementType.PRAGMA,
    duckdb.StatementType.CALL,
}
FORMATS = ("table", "csv", "json")
# A PIVOT without an IN list (the analysts' cross-tabulations) parses as several statements, DuckDB
# first listing the distinct values, so its type is MULTI, as is a CREATE TABLE ... AS PIVOT: only a
# statement that starts with PIVOT (after comments) is taken as reading.
PIVOT_STATEMENT = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*pivot\b", re.IGNORECASE | re.DOTALL)


class QueryRefused(ValueError):
    """The query would write, or is not a single statement."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple]

    def render(self, fmt: str) -> str:
        if fmt == "table":
            return tabulate(self.rows, headers=self.columns, tablefmt="simple", disable_numparse=True)
        if fmt == "csv":
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(self.columns)
            writer.writerows(self.rows)
            return out.getvalue().rstrip("\n")
        if fmt == "json":
            return json.dumps([dict(zip(self.columns, row)) for row in self.rows], default=str, indent=1)
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def check_read_only(query: str) -> None:
    """Raise ``QueryRefused`` unless ``query`` is one statement that only reads."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise QueryRefused(f"the query does not parse: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise QueryRefused(f"give one statement at a time ({len(statements)} given)")
    kind = statements[0].type
    pivot = kind == duckdb.StatementType.MULTI and PIVOT_STATEMENT.match(query)
    if kind not in READING_STATEMENTS and not pivot:
        raise QueryRefused(
            f"{kind.name} statements are refused: `survey sql` only reads the analysts' warehouse "
            "(SELECT, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PIVOT). Each refresh replaces the file, so change the "
            "data through the pipeline, or copy the result elsewhere with --format csv."
        )


def run_query(snapshot: Path, query: str) -> QueryResult:
    """Run one reading statement against the snapshot at ``snapshot``."""
    check_read_only(query)
    if not Path(snapshot).exists():
        raise FileNotFoundError(f"no analysts' warehouse at {snapshot}: run `survey run` (or `survey demo`) first")
    with duckdb.connect(str(snapshot), read_only=True, config={"enable_external_access": False}) as con:
        cursor = con.execute(query)
        columns = [d[0] for d in cursor.description] if cursor.description else []
        return QueryResult(columns, cursor.fetchall())
