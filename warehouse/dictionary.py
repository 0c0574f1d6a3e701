"""The data dictionary of the analysts' warehouse, read from ``dictionary.yaml``.

It says which tables are published and which stay private, and describes every published table, view
and column (a wide view's question columns from the survey's codebook). From it come the DuckDB comments
of the published snapshot and the dictionary in the analysts' docs. What does not belong here: copying
the tables (``warehouse.publication``), defining the views (``warehouse.snapshot_views``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from schemas.codebook import Codebook
from schemas.indicator_catalogue import option_indicator_id
from sql_text import identifier, literal
from warehouse.snapshot_views import wide_columns, wide_view_name

DICTIONARY_PATH = Path(__file__).with_name("dictionary.yaml")

# Tables the snapshot derives rather than copies, and the survey-level tables whose comment also lists
# the surveys (from their codebooks).
DERIVED_TABLES = ("quarantine_counts", "cleaning_counts")
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


def published_views(codebooks: Iterable[Codebook]) -> list[TableEntry]:
    """Every view of the snapshot: the shared ones, then each survey's wide view with its question columns
    described from the codebook."""
    views = [TableEntry(name, entry["description"], dict(entry["columns"])) for name, entry in _raw()["views"].items()]
    wide = _raw()["wide_views"]
    for codebook in codebooks:
        columns = dict(wide["columns"])
        for column in wide_columns(codebook):
            if column.option is None:
                columns[column.name] = f"{column.question.title}. {wide['single_choice']}"
            else:
                columns[column.name] = f"{column.question.title}: {column.option.label}. {wide['multiple_choice']}"
        views.append(TableEntry(wide_view_name(codebook.survey_id),
                                f"{wide['description']} Survey: {_survey_text(codebook)}.", columns))
    return views


def _survey_text(codebook: Codebook) -> str:
    return f"{codebook.survey_id} ({codebook.title}; codebook {codebook.version})"


def _surveys_note(codebooks: Iterable[Codebook]) -> str:
    described = [_survey_text(cb) for cb in codebooks]
    return f" Surveys: {'; '.join(described)}." if described else ""


def comment_statements(catalog: str, codebooks: Iterable[Codebook]) -> list[str]:
    """``COMMENT ON`` statements for every published table, view and column of the database ``catalog``.
    COMMENT ON takes no bound parameter, so the descriptions are placed in the text as literals."""
    codebooks = list(codebooks)
    note = _surveys_note(codebooks)
    entries = [("TABLE", t, t.description + (note if t.name in SURVEY_TABLES else "")) for t in published_tables()]
    entries += [("VIEW", v, v.description) for v in published_views(codebooks)]
    statements = []
    for kind, entry, description in entries:
        qualified = f"{identifier(catalog)}.main.{identifier(entry.name)}"
        statements.append(f"COMMENT ON {kind} {qualified} IS {literal(description)}")
        statements += [
            f"COMMENT ON COLUMN {qualified}.{identifier(column)} IS {literal(text)}"
            for column, text in entry.columns.items()
        ]
    return statements


def _markdown_entry(heading: str, description: str, columns: dict[str, str]) -> list[str]:
    lines = [f"### {heading}", "", description, "", "| column | meaning |", "|---|---|"]
    lines += [f"| `{column}` | {text.replace('|', '/')} |" for column, text in columns.items()]
    return lines + [""]


def markdown() -> str:
    """The dictionary as markdown: a heading and a column table per published table, then per view (the
    wide views once, for every survey, with their question columns as patterns)."""
    lines = []
    for table in published_tables():
        lines += _markdown_entry(f"`{table.name}`", table.description, table.columns)
    for view in published_views([]):
        lines += _markdown_entry(f"`{view.name}` (view)", view.description, view.columns)
    wide = _raw()["wide_views"]
    columns = {**wide["columns"],
               "<question_id>": f"One per respondent field and single-choice question. {wide['single_choice']}",
               option_indicator_id("<question_id>", "<option_id>"):
                   f"One per option of a multiple-choice question. {wide['multiple_choice']}"}
    lines += _markdown_entry(f"`{wide_view_name('<survey>')}` (view, one per survey)", wide["description"], columns)
    return "\n".join(lines).rstrip() + "\n"
