"""Quarantine entries: pandera's failures as entries, the one-line reason of each, and refused values described.

A refused cell's value is kept in the quarantine's ``offending_value`` only, which goes to the private
working database. Everything else that says why a row was refused (the quarantine's ``reason``, Dagster
metadata and logs, failure messages, the terminal) shows the value through ``describe_value``: its length
and the kinds of character in it, never the characters, which can be a name, an email or markdown that
the Dagster UI would render. Free text is described even in ``offending_value``.

What does not belong here: deciding which rows fail (``validation.rules``).
"""

from __future__ import annotations

import unicodedata

import pandas as pd

from schemas.quarantine_rules import (
    RULE_AT_LEAST_ONE_OPTION,
    RULE_EXCLUSIVE_OPTION,
    RULE_FIELD_COUNT,
    RULE_INCOMPLETE,
    RULE_SUPERSEDED,
    RULES,
)
from schemas.response_schema import PANDERA_CHECK_RULES

SOURCE_FILE = "source_file"
SOURCE_ROW = "source_row"
QUARANTINE_COLUMNS = [
    SOURCE_FILE, SOURCE_ROW, "respondent_id", "column_name", "rule", "offending_value",
    "kept_source_file", "kept_source_row", "reason",
]
CLEANING_COLUMNS = [SOURCE_FILE, SOURCE_ROW, "respondent_id", "column_name", "rule", "offending_value"]
# Rules whose offending value is worded by the pipeline (a pointer to the submission kept, a count of
# cells, "no option ticked", the codebook's label of an exclusive option), never a cell as delivered: shown as
# they are.
WORDED_BY_PIPELINE = frozenset({RULE_SUPERSEDED, RULE_INCOMPLETE, RULE_FIELD_COUNT, RULE_AT_LEAST_ONE_OPTION,
                                RULE_EXCLUSIVE_OPTION})

# Unicode general categories (their first letter) by the word a person reads; marks are accents on letters.
_CHARACTER_KINDS = (("letters", "LM"), ("digits", "N"), ("spaces", "Z"), ("punctuation", "P"), ("symbols", "S"))


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def describe_value(value: object) -> str:
    """A refused cell as it may be shown outside the private working database: its length and the kinds of
    character in it, never the characters themselves ("23 characters: letters, digits and punctuation")."""
    if _missing(value):
        return "missing"
    text = str(value)
    if not text:
        return "empty"
    categories = {"Z" if c.isspace() else unicodedata.category(c)[0] for c in text}
    kinds = [word for word, letters in _CHARACTER_KINDS if categories & set(letters)]
    if categories - set("LMNZPS"):
        kinds.append("invisible or control characters")
    listed = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} and {kinds[-1]}"
    return f"{len(text)} character{'' if len(text) == 1 else 's'}: {listed}"


def refusal_reason(source_file: str, source_row: int, column: str, rule: str, offending_value: object) -> str:
    """Why a row was refused, in one line that may be shown anywhere: file, row, column, rule and the
    value described (``describe_value``), unless the pipeline worded it itself."""
    shown = offending_value if rule in WORDED_BY_PIPELINE and not _missing(offending_value) else describe_value(offending_value)
    return f"{source_file} row {source_row}, column {column}: {RULES.get(rule, rule)} (rule {rule}; value: {shown})"


def failing_values(failure_cases: pd.DataFrame, values: dict[str, list]) -> list[tuple[str, object, str, str | None]]:
    """(column, value, rule, offending value) for each of ``values`` (by column) that pandera's
    ``failure_cases`` name, the rule named by the check: the one place pandera's failures become verdicts."""
    if failure_cases["index"].isna().any():
        # A failure not tied to a value (e.g. a whole-column dtype check) would let bad rows through.
        unexplained = failure_cases[failure_cases["index"].isna()][["column", "check"]].drop_duplicates()
        raise RuntimeError(f"validation failures not tied to a row: {unexplained.to_dict('records')}")
    verdicts = []
    for column, index, check, case in zip(failure_cases["column"], failure_cases["index"].astype(int),
                                          failure_cases["check"].astype(str), failure_cases["failure_case"]):
        rule = PANDERA_CHECK_RULES.get(check, check.split(":")[0])
        verdicts.append((column, values[column][index], rule, None if _missing(case) else str(case)))
    return verdicts


def with_reasons(entries: pd.DataFrame, free_text: set[str]) -> pd.DataFrame:
    """The entries in file, row and column order, with their reasons, and free text described."""
    quarantine = entries.reindex(columns=QUARANTINE_COLUMNS)
    quarantine = quarantine.sort_values([SOURCE_FILE, SOURCE_ROW, "column_name", "rule"], kind="stable")
    quarantine = quarantine.reset_index(drop=True)
    quarantine["reason"] = [
        refusal_reason(f, r, c, rule, v)
        for f, r, c, rule, v in zip(
            quarantine[SOURCE_FILE], quarantine[SOURCE_ROW], quarantine["column_name"],
            quarantine["rule"], quarantine["offending_value"],
        )
    ]
    # Free text can hold anything a person typed (names, phone numbers, whole letters): even the private
    # quarantine keeps only its description.
    typed = quarantine["column_name"].isin(free_text) & quarantine["offending_value"].notna()
    typed &= ~quarantine["rule"].isin(WORDED_BY_PIPELINE)
    quarantine.loc[typed, "offending_value"] = quarantine.loc[typed, "offending_value"].map(describe_value)
    return quarantine


def described_cleaning(cleaning: pd.DataFrame, free_text: set[str]) -> pd.DataFrame:
    """Cells cleaned away, with free text described as in the quarantine (even the private log keeps
    only its description)."""
    cleaning = cleaning.reindex(columns=CLEANING_COLUMNS).reset_index(drop=True)
    typed = cleaning["column_name"].isin(free_text) & cleaning["offending_value"].notna()
    cleaning.loc[typed, "offending_value"] = cleaning.loc[typed, "offending_value"].map(describe_value)
    return cleaning
