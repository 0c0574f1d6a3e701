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
from schemas.readers import SOURCE_ROW, WaveFile, read_plain_csv, sha256_of
from schemas.response_schema import (
    PANDERA_CHECK_RULES,
    RULE_AT_LEAST_ONE_OPTION,
    RULE_FIELD_COUNT,
    RULES,
    build_response_schema,
)

SOURCE_FILE = "source_file"
WHOLE_ROW = "(whole row)"
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
    if failure_cases["index"].isna().any():
        # A failure not tied to a row (e.g. a whole-column dtype check) would let bad rows through.
        unexplained = failure_cases[failure_cases["index"].isna()][["column", "check"]].drop_duplicates()
        raise RuntimeError(f"validation failures not tied to a row: {unexplained.to_dict('records')}")
    failures = failure_cases.copy()
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
    return quarantine


def _malformed_to_quarantine(name: str, wave_file: WaveFile, header_cells: int) -> pd.DataFrame:
    malformed = wave_file.malformed
    return pd.DataFrame(
        {
            SOURCE_FILE: name,
            SOURCE_ROW: malformed[SOURCE_ROW].to_numpy(),
            "respondent_id": None,
            "column_name": WHOLE_ROW,
            "rule": RULE_FIELD_COUNT,
            "offending_value": [f"{n} cells; the header has {header_cells}" for n in malformed["fields"]],
        }
    )


def _with_reasons(quarantine: pd.DataFrame) -> pd.DataFrame:
    quarantine = quarantine.sort_values([SOURCE_FILE, SOURCE_ROW, "column_name"]).reset_index(drop=True)
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
    return quarantine[QUARANTINE_COLUMNS]


def validate_wave(
    paths: list[Path], codebook: Codebook, trust_codes: list[str], schema: pa.DataFrameSchema | None = None
) -> WaveValidation:
    """Read and validate every file of a wave; raises ``WaveFileRejected`` if any file is unusable.

    The files of a wave are validated together, so a respondent id must be unique across all of them.
    """
    schema = schema or build_response_schema(codebook, trust_codes)
    wave_files = [read_plain_csv(path, codebook) for path in paths]
    frames, quarantines = [], []
    for path, wave_file in zip(paths, wave_files):
        frames.append(wave_file.responses.assign(**{SOURCE_FILE: path.name}))
        if not wave_file.malformed.empty:
            quarantines.append(_malformed_to_quarantine(path.name, wave_file, len(codebook.expected_columns)))
    responses = pd.concat(frames, ignore_index=True).drop(columns=list(codebook.respondent.personal_data))
    try:
        schema.validate(responses, lazy=True)
    except pa.errors.SchemaErrors as errors:
        quarantines.append(
            _failures_to_quarantine(errors.failure_cases, responses, codebook.respondent.id_column)
        )
    quarantine = (
        _with_reasons(pd.concat(quarantines, ignore_index=True))
        if quarantines
        else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    )
    failed = pd.MultiIndex.from_frame(quarantine[[SOURCE_FILE, SOURCE_ROW]].drop_duplicates())
    is_failed = pd.MultiIndex.from_frame(responses[[SOURCE_FILE, SOURCE_ROW]]).isin(failed)
    valid = responses[~is_failed].reset_index(drop=True)
    files = []
    for path, wave_file in zip(paths, wave_files):
        in_file = quarantine[SOURCE_FILE] == path.name
        files.append(
            SourceFile(
                name=path.name,
                sha256=sha256_of(path),
                size_bytes=path.stat().st_size,
                rows_read=wave_file.rows_read,
                rows_loaded=int((valid[SOURCE_FILE] == path.name).sum()),
                rows_quarantined=int(quarantine.loc[in_file, SOURCE_ROW].nunique()),
            )
        )
    return WaveValidation(valid=valid, quarantine=quarantine, files=tuple(files))
