"""The data dictionary of the analysts' warehouse, read from ``dictionary.yaml``.

It says which tables are published and which stay private, and describes every published table and
column. From it come the DuckDB comments of the published snapshot and the dictionary in the analysts'
docs. What does not belong here: copying the tables (``warehouse.publication``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from schemas.codebook import Codebook
from warehouse.sql_text import literal

DICTIONARY_PATH = Path(__file__).with_name("dictionary.yaml")

# Tables the snapshot derives rather than copies, and the survey-level tables whose comment also lists
# the surveys (from their codebooks).
DERIVED_TABLES = ("quarantine_counts",)
SURVEY_TABLES = ("waves", "questions", "options", "indicators")


@dataclass(frozen=True)
class TableEntry:
    name: str
    description: str
    columns: dict[str, str]


@cache
def _raw() -> dict:
    return yaml.safe_load(DICTIONARY_PATH.read_text(encoding="utf-8"))


def published_tables() -> list[TableEntry]:
    """Every table of the snapshot, in the dictionary's order."""
    return [
        TableEntry(name, entry["description"], dict(entry["columns"]))
        for name, entry in _raw()["tables"].items()
    ]


def private_tables() -> dict[str, str]:
    """Tables of the working database that are never published, with the reason."""
    return dict(_raw()["private"])


def _surveys_note(codebooks: Iterable[Codebook]) -> str:
    described = [f"{cb.survey_id} ({cb.title}; codebook {cb.version})" for cb in codebooks]
    return f" Surveys: {'; '.join(described)}." if described else ""


def comment_statements(catalog: str, codebooks: Iterable[Codebook]) -> list[str]:
    """``COMMENT ON`` statements for every published table and column of the database ``catalog``.
    COMMENT ON takes no bound parameter, so the descriptions are placed in the text as literals."""
    note = _surveys_note(codebooks)
    statements = []
    for table in published_tables():
        qualified = f'"{catalog}".main."{table.name}"'
        description = table.description + (note if table.name in SURVEY_TABLES else "")
        statements.append(f"COMMENT ON TABLE {qualified} IS {literal(description)}")
        statements += [
            f'COMMENT ON COLUMN {qualified}."{column}" IS {literal(text)}'
            for column, text in table.columns.items()
        ]
    return statements


def markdown() -> str:
    """The dictionary as markdown: a heading and a column table per published table."""
    lines = []
    for table in published_tables():
        lines += [f"### `{table.name}`", "", table.description, "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{column}` | {text.replace('|', '/')} |" for column, text in table.columns.items()]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
