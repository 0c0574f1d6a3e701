"""The pandera schema of one wave's responses, generated from the survey's codebook.

The schema checks the plain wide layout (one column per single-choice question holding the option
label, one 0/1 column per multiple-choice option, one column per free-text or numeric question) with every cell
read as text, so that no bad value is hidden by type inference. Each check carries the name of a
quarantine rule (``schemas.quarantine_rules``); ``validation.quarantine`` turns pandera's failure cases
into quarantine verdicts. Each column's checks see that column alone (``validation.rules`` checks a
column's distinct values); the rules that span cells (a required multiple-choice question needs a tick,
partial responses, resubmissions) are SQL in ``validation.rules``.

What does not belong here: reading files, and deciding what happens to failing rows.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pandera.pandas as pa
from pandera.dtypes import immutable
from pandera.engines import pandas_engine

from schemas.codebook import Codebook
from schemas.numbers import canonical_number
from schemas.quarantine_rules import (
    RULE_KNOWN_TRUST,
    RULE_MAX_LENGTH,
    RULE_NUMERIC_VALUE,
    RULE_OPTION_FLAG,
    RULE_OPTION_LABEL,
    RULE_REQUIRED,
    RULE_TIMESTAMP,
)

# pandera's own name for the check it adds from `nullable=False`.
PANDERA_CHECK_RULES = {"not_nullable": RULE_REQUIRED}

OPTION_FLAGS = ("0", "1")
_UTC_OFFSET = r"(?:Z|[+-][0-9]{2}:?[0-9]{2})$"
# Five digits of days: 1927 to 2173, so that no other number in a time column passes for a date.
_EXCEL_SERIAL = r"[1-9][0-9]{4}(?:\.[0-9]+)?"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30", tz="UTC")


def parse_timestamps(values: pd.Series) -> pd.Series:
    """ISO 8601 timestamps as UTC datetimes; anything unparseable becomes NaT.

    A timestamp with an offset is converted to UTC; one without is taken to be UTC already. The two kinds
    are parsed apart because pandas, given both in one call, silently applies the first offset it sees
    to the timestamps that have none.
    """
    # Arrow's strings: the offset pattern is matched in one vectorised pass, three times as fast as
    # Python's regex cell by cell (a second for a million submission times, validated twice).
    text = values.astype("string[pyarrow]")
    has_offset = text.str.contains(_UTC_OFFSET, regex=True, na=False).to_numpy(dtype=bool)
    serial = text.str.fullmatch(_EXCEL_SERIAL, na=False).to_numpy(dtype=bool)
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    for part in (has_offset, ~has_offset & ~serial):
        if part.any():
            parsed[part] = pd.to_datetime(values[part], errors="coerce", format="ISO8601", utc=True)
    if serial.any():
        # Excel's serial dates (days since 30 December 1899, the time as the fraction), as a sheet saved
        # without a date format gives them; like a time without an offset, taken to be UTC. Rounded to the
        # second, as Excel shows them.
        days = pd.to_numeric(values[serial], errors="coerce").astype(float)
        parsed[serial] = (_EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).dt.round("s")
    return parsed


@immutable
class Text(pandas_engine.NpString):
    """pandera's ``str``, checked in one C pass over the column (pandas' ``infer_dtype``) and cell by cell,
    as pandera does for every ``str`` column, only when that pass finds something other than text: the
    cell-by-cell check took a third of the validation time of a large wave."""

    def check(self, pandera_dtype, data_container=None):
        if data_container is not None and pd.api.types.infer_dtype(data_container, skipna=True) in ("string", "empty"):
            return True
        return super().check(pandera_dtype, data_container)


TEXT = Text()


def _is_in(allowed: Iterable[str], rule: str) -> pa.Check:
    allowed_set = frozenset(allowed)
    return pa.Check(lambda s: s.isin(allowed_set), name=rule)


def build_response_schema(codebook: Codebook, trust_codes: Iterable[str]) -> pa.DataFrameSchema:
    """The schema a wave file must meet, for this codebook and this list of trust codes."""
    respondent = codebook.respondent
    columns: dict[str, pa.Column] = {
        # Uniqueness is not a schema rule: a repeated respondent is resolved by keeping the latest.
        respondent.id_column: pa.Column(TEXT, nullable=False),
        respondent.submitted_at_column: pa.Column(
            TEXT,
            pa.Check(lambda s: parse_timestamps(s).notna(), name=RULE_TIMESTAMP),
            nullable=False,
        ),
    }
    if respondent.trust is not None:
        columns[respondent.trust.column] = pa.Column(TEXT, _is_in(trust_codes, RULE_KNOWN_TRUST), nullable=False)
    for field in respondent.fields:
        columns[field.column] = pa.Column(TEXT, _is_in((o.label for o in field.options), RULE_OPTION_LABEL),
                                          nullable=not field.required)
    # A routed question is required only of those routed to it: that rule spans cells (validation.rules).
    for question in codebook.questions:
        if question.answer_kind == "single":
            columns[question.id] = pa.Column(
                TEXT,
                _is_in((o.label for o in question.options), RULE_OPTION_LABEL),
                nullable=not question.required or question.asked_if is not None,
            )
        elif question.type == "multiple":
            for column in question.option_columns:
                columns[column] = pa.Column(TEXT, _is_in(OPTION_FLAGS, RULE_OPTION_FLAG), nullable=True)
        elif question.type == "numeric":
            columns[question.id] = pa.Column(
                TEXT,
                pa.Check(lambda s, q=question: s.map(lambda v: canonical_number(v, q.integer, q.minimum, q.maximum))
                         .notna(), name=RULE_NUMERIC_VALUE),
                nullable=not question.required or question.asked_if is not None,
            )
        else:
            columns[question.id] = pa.Column(
                TEXT,
                pa.Check(lambda s, n=question.max_length: s.str.len() <= n, name=RULE_MAX_LENGTH),
                nullable=not question.required or question.asked_if is not None,
            )
    return pa.DataFrameSchema(
        columns,
        name=f"{codebook.survey_id} responses",
        description=f"Responses to {codebook.title}, codebook version {codebook.version}",
    )
