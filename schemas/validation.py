"""Validating a wave against its codebook: valid rows go on, failing rows go to quarantine with a reason.

Validation is lazy (every failure of every row is reported, not just the first) and loses nothing:
each row read ends up either in ``WaveValidation.valid`` or, with one quarantine entry per failure, in
``WaveValidation.quarantine``. Personal-data columns are dropped here, before anything is stored.

What does not belong here: reading file formats (``schemas.readers``) and writing to the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from schemas.codebook import Codebook
from schemas.readers import HEADER_ROWS, read_plain_csv, sha256_of
from schemas.response_schema import (
    PANDERA_CHECK_RULES,
    RULE_AT_LEAST_ONE_OPTION,
    RULES,
    build_response_schema,
)

SOURCE_FILE = "source_file"
SOURCE_ROW = "source_row"
QUARANTINE_COLUMNS = [
    SOURCE_FILE,
    SOURCE_ROW,
    "respondent_id",
    "column_name",
    "rule",
    "offending_value",
    "reason",
]


@dataclass(frozen=True)
class SourceFile:
    """One landed file of a wave, as recorded in the load log."""

    name: str
    sha256: str
    size_bytes: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int


@dataclass(frozen=True)
class WaveValidation:
    """The outcome of validating every file of one wave."""

    valid: pd.DataFrame  # wide text columns of the codebook, plus source_file and source_row
    quarantine: pd.DataFrame  # QUARANTINE_COLUMNS, one row per failure (a row may fail several rules)
    files: tuple[SourceFile, ...]

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return len(self.valid)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


def _describe(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value)


def _failures_to_quarantine(
    failure_cases: pd.DataFrame, responses: pd.DataFrame, id_column: str
) -> pd.DataFrame:
    """One quarantine row per (source row, column, rule) from pandera's failure cases."""
    failures = failure_cases.dropna(subset=["index"]).copy()
    failures["index"] = failures["index"].astype(int)
    check = failures["check"].astype(str)
    failures["rule"] = check.map(lambda c: PANDERA_CHECK_RULES.get(c, c.split(":")[0]))
    # A dataframe-wide check reports every column of the failing row; report it once, on the question.
    whole_row = check.str.startswith(f"{RULE_AT_LEAST_ONE_OPTION}:")
    failures.loc[whole_row, "column"] = check[whole_row].str.split(":").str[1]
    failures.loc[whole_row, "failure_case"] = "no option ticked"
    failures = failures.drop_duplicates(subset=["index", "column", "rule"])
    rows = responses.loc[failures["index"]]
    quarantine = pd.DataFrame(
        {
            SOURCE_FILE: rows[SOURCE_FILE].to_numpy(),
            SOURCE_ROW: rows[SOURCE_ROW].to_numpy(),
            "respondent_id": rows[id_column].to_numpy(),
            "column_name": failures["column"].to_numpy(),
            "rule": failures["rule"].to_numpy(),
            "offending_value": [_describe(v) for v in failures["failure_case"]],
        }
    )
    quarantine["reason"] = [
        f"{f} row {r}, column {c}: {RULES.get(rule, rule)} (value: {'missing' if v is None else repr(v)})"
        for f, r, c, rule, v in zip(
            quarantine[SOURCE_FILE],
            quarantine[SOURCE_ROW],
            quarantine["column_name"],
            quarantine["rule"],
            quarantine["offending_value"],
        )
    ]
    return quarantine.sort_values([SOURCE_FILE, SOURCE_ROW, "column_name"]).reset_index(drop=True)


def validate_wave(
    paths: list[Path], codebook: Codebook, trust_codes: list[str], schema: pa.DataFrameSchema | None = None
) -> WaveValidation:
    """Read and validate every file of a wave; raises ``WaveFileRejected`` if any file is unusable."""
    schema = schema or build_response_schema(codebook, trust_codes)
    frames = []
    for path in paths:
        frame = read_plain_csv(path, codebook)
        frame.insert(0, SOURCE_ROW, range(HEADER_ROWS + 1, HEADER_ROWS + 1 + len(frame)))
        frame.insert(0, SOURCE_FILE, path.name)
        frames.append(frame)
    responses = pd.concat(frames, ignore_index=True).drop(columns=list(codebook.respondent.personal_data))
    try:
        schema.validate(responses, lazy=True)
        quarantine = pd.DataFrame(columns=QUARANTINE_COLUMNS)
    except pa.errors.SchemaErrors as errors:
        quarantine = _failures_to_quarantine(errors.failure_cases, responses, codebook.respondent.id_column)
    failed = pd.MultiIndex.from_frame(quarantine[[SOURCE_FILE, SOURCE_ROW]].drop_duplicates())
    is_failed = pd.MultiIndex.from_frame(responses[[SOURCE_FILE, SOURCE_ROW]]).isin(failed)
    valid = responses[~is_failed].reset_index(drop=True)
    files = []
    for path, frame in zip(paths, frames):
        quarantined = int(quarantine.loc[quarantine[SOURCE_FILE] == path.name, SOURCE_ROW].nunique())
        files.append(
            SourceFile(
                name=path.name,
                sha256=sha256_of(path),
                size_bytes=path.stat().st_size,
                rows_read=len(frame),
                rows_loaded=int((valid[SOURCE_FILE] == path.name).sum()),
                rows_quarantined=quarantined,
            )
        )
    return WaveValidation(valid=valid, quarantine=quarantine, files=tuple(files))
